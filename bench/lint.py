"""How long `guardrail lint` takes on a policy of 1,000 rules (the target: under 2 s).

Generates a policy of 1,000 varied rules (exec, path, net, db; allows, asks,
denies; exact names, globs, `any:`, `not:`), lints it several times and
prints the median and the worst time, and how many findings it gave.

    python bench/lint.py [--rules N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def policy_text(count: int) -> str:
    lines = ["version: 1", "rules:"]
    decisions = ["allow", "ask", "deny"]
    for i in range(count):
        decision = decisions[i % 3]
        kind = i % 4
        if kind == 0:
            match = f"{{effect: exec, command: [tool{i}, tool{i}b], not: {{flags: [--force]}}}}"
        elif kind == 1:
            match = f"{{effect: path, op: [write, delete], location: [inside], path: [\"dir{i}/**\", \"*.ext{i}\"]}}"
        elif kind == 2:
            match = f"{{effect: net, protocol: [http], host: [\"api{i}.example.com\", \"*.svc{i}.example.org\"], method: [GET]}}"
        else:
            match = (f"{{effect: exec, any: [{{command: [cmd{i}], subcommand: [run, test]}}, "
                     f"{{command: [cmd{i}x], args: [\"re:^--opt{i}\"]}}]}}")
        lines.append(f"  - {{id: rule-{i:04d}, decision: {decision}, match: {match}}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from guardrail.lint.policy_checks import lint_policy

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(policy_text(args.rules))
        times = []
        findings = 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            findings = len(lint_policy(path).findings)
            times.append(time.perf_counter() - start)
    print(f"lint of a {args.rules}-rule policy: median {statistics.median(times):.3f} s, "
          f"max {max(times):.3f} s over {args.repeat} runs ({findings} findings); target < 2 s")


if __name__ == "__main__":
    main()
