"""Warm exec vs a fresh container: `true` through each, median and p95, and the ratio.

    python bench/sandbox.py [--image guardrail-sandbox:local] [--warm 60] [--cold 15]

Warm, two ways, in a session's running container: `DockerSandbox.exec("true")`
through the resident runner (what every call after a process's first costs:
an MCP server, `guardrail call`, `Guard.run` in a loop), and with one
`docker exec` per call (what a one-shot `guardrail run` costs, and the
fallback). Cold: a new container per call, `docker run --rm` of the same
image with the same hardening, through the SDK (like-for-like) and through
the docker CLI (what people type). Target: warm at least 5x faster than cold
and under 80 ms median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from guardrail.sandbox.config import LOCAL_IMAGE, SandboxConfig
from guardrail.sandbox.docker import DockerSandbox, docker_client


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(name: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    print(
        f"{name:<34} n={len(samples):<3} median {median:7.1f} ms   p95 {percentile(samples, 0.95):7.1f} ms"
    )
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=LOCAL_IMAGE)
    parser.add_argument("--warm", type=int, default=60, help="warm execs to time")
    parser.add_argument("--cold", type=int, default=15, help="fresh containers to time")
    args = parser.parse_args()

    client = docker_client()
    config = SandboxConfig(image=args.image)
    workspace = Path(tempfile.mkdtemp(prefix="guardrail-bench-"))
    if os.geteuid() == 0:
        os.chown(workspace, 1000, 1000)  # run as a user, as a real workspace would
    session = f"bench-{time.time_ns()}"
    sandbox = DockerSandbox(config, workspace, session, client=client)
    per_exec = DockerSandbox(config, workspace, session, client=client, runner=False)
    try:
        sandbox.start()
        per_exec.start()  # the same container
        for _ in range(3):  # warm-up: connection pool, page cache, the runner
            sandbox.exec("true", cwd=str(workspace))
            per_exec.exec("true", cwd=str(workspace))

        def warm_call(box: DockerSandbox) -> Callable[[], None]:
            def call() -> None:
                result = box.exec("true", cwd=str(workspace))
                assert result.exit_code == 0, result

            return call

        warm = timed(warm_call(sandbox), args.warm)
        warm_exec = timed(warm_call(per_exec), args.warm)

        def cold_sdk() -> None:
            client.containers.run(
                args.image,
                ["true"],
                remove=True,
                network_mode="none",
                read_only=True,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                user=sandbox.user,
                tmpfs={"/tmp": "rw,size=64m"},
                volumes={str(workspace): {"bind": str(workspace), "mode": "rw"}},
                working_dir=str(workspace),
                pids_limit=config.pids_limit,
                mem_limit=config.memory,
                init=True,
            )

        cold = timed(cold_sdk, args.cold)
        docker_cli = shutil.which("docker")
        cli: list[float] = []
        if docker_cli:
            argv = [docker_cli, "run", "--rm", "--network", "none", "--read-only"]
            argv += ["--cap-drop", "ALL", "--user", sandbox.user, args.image, "true"]
            cli = timed(lambda: subprocess.run(argv, check=True, capture_output=True), args.cold)
    finally:
        per_exec.release()
        sandbox.close()
        shutil.rmtree(workspace, ignore_errors=True)

    print(f"image {args.image}; `true` per call")
    warm_median = report("warm session (resident runner)", warm)
    exec_median = report("warm exec (one docker exec/call)", warm_exec)
    cold_median = report("docker run --rm (SDK, same flags)", cold)
    if cli:
        report("docker run --rm (CLI)", cli)
    print(f"ratio cold/warm session (median)    {cold_median / warm_median:7.1f}x")
    print(f"ratio cold/warm exec (median)       {cold_median / exec_median:7.1f}x")
    met = cold_median / warm_median >= 5 and warm_median < 80
    print(f"target (>=5x and warm < 80 ms): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
