"""Audit trail appends per second, with fsync on and off.

    python bench/audit.py [--records N] [--dir DIR] [--processes P]

Prints throughput and per-append latency percentiles (each append takes the
lock, reads the tail, hashes, redacts and writes one line), and the ratio
fsync off / on. DIR defaults to a temporary directory: put it on the disk
the trail will live on, since fsync cost is the disk's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from guardrail.audit import AuditTrail, verify

SAMPLE = {
    "call_id": "0123456789abcdef",
    "call": {"tool": "shell", "command": "pytest -q tests/ && git commit -m 'wip' && curl https://pypi.org/simple/"},
    "decision": "allow",
    "rules": [{"id": "build-and-test", "decision": "allow", "risk": "low", "effect": "run pytest -q tests/"}],
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(path: Path, n: int, fsync: bool) -> tuple[float, list[float]]:
    trail = AuditTrail(path, fsync=fsync)
    latencies: list[float] = []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        trail.append("decision", {**SAMPLE, "n": i})
        latencies.append(time.perf_counter() - t0)
    return n / (time.perf_counter() - start), latencies


def _worker(path: str, n: int, fsync: bool) -> None:
    trail = AuditTrail(path, fsync=fsync)
    for i in range(n):
        trail.append("note", {**SAMPLE, "n": i})


def run_parallel(path: Path, n: int, fsync: bool, processes: int) -> float:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(str(path), n, fsync)) for _ in range(processes)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return processes * n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        results: dict[bool, float] = {}
        for fsync in (False, True):
            path = Path(tmp) / f"audit-{'fsync' if fsync else 'nofsync'}.jsonl"
            n = args.records if not fsync else max(50, args.records // 4)
            rate, lat = run(path, n, fsync)
            results[fsync] = rate
            ms = [x * 1000 for x in lat]
            print(
                f"fsync {'on ' if fsync else 'off'}: {rate:10.0f} appends/s over {n} "
                f"(p50 {_percentile(ms, 0.50):.3f} ms, p95 {_percentile(ms, 0.95):.3f} ms, "
                f"p99 {_percentile(ms, 0.99):.3f} ms, mean {statistics.fmean(ms):.3f} ms)"
            )
            assert verify(path).ok
            ppath = Path(tmp) / f"parallel-{fsync}.jsonl"
            prate = run_parallel(ppath, n // args.processes, fsync, args.processes)
            print(f"           {prate:10.0f} appends/s from {args.processes} processes at once "
                  f"(verify: {'ok' if verify(ppath).ok else 'BROKEN'})")
        print(f"ratio fsync off / on: {results[False] / results[True]:.1f}x")


if __name__ == "__main__":
    main()
