"""A toy agent loop that runs its commands through a configurable shell, given guardrail-sh.

    python examples/guardrail_sh_agent.py

Agents like opencode run `$SHELL -c CMD`; this one does the same with
`subprocess.run(cmd, shell=True, executable=SHELL)`, and SHELL is
guardrail-sh (here with GUARDRAIL_NO_SANDBOX=1 so it needs no Docker).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

COMMANDS = ["echo 'hello from the agent'", "ls -a", "printf 'x\\ny\\n' | wc -l", "rm -rf ~", "exit 3"]


def guardrail_sh() -> list[str]:
    found = shutil.which("guardrail-sh")
    return [found] if found else [sys.executable, "-m", "guardrail.cli.sh"]


def main() -> int:
    shell = guardrail_sh()
    with tempfile.TemporaryDirectory() as ws:
        env = {**os.environ, "GUARDRAIL_NO_SANDBOX": "1", "GUARDRAIL_WORKSPACE": ws}
        for cmd in COMMANDS:
            proc = subprocess.run([*shell, "-c", cmd], cwd=ws, env=env, capture_output=True, text=True, check=False)
            out = (proc.stdout + proc.stderr).strip().replace("\n", " | ")
            print(f"$ {cmd:32} -> exit {proc.returncode:3}  {out[:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
