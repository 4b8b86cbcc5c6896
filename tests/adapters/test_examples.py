"""Each adapter example in examples/ runs and shows what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

EXPECTED = {
    "claude_code_hook.py": ["Bash                               -> allow", "Write                              -> deny",
                            "Read                               -> ask", "beforeShellExecution               -> ask"],
    "mcp_proxy.py": ["tools: ['write_file', 'read_file']", "read_file          ok    - ship it",
                     "deny: change-outside on write /etc/passwd", "deleting notes needs a human"],
    "mcp_serve.py": ["shell      ok    hello  [exit code 0]", "refused the call: deny: remote-code"],
    "guardrail_sh_agent.py": ["exit   0  hello from the agent", "exit 126  guardrail: refused", "exit   3"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for line in EXPECTED[name]:
        assert line in proc.stdout, (line, proc.stdout)
