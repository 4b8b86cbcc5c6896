"""`guardrail-sh` behaves like `sh -c` for allowed commands.

Run with `--no-sandbox` (the host runner, the same /bin/sh): the comparison
is about argument handling, quoting, streams, stdin and exit statuses, which
must not depend on the container. The sandboxed path is `Guard.run`'s, tested
with the sandbox itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from guardrail.adapters.shell import UsageError, parse_args

SH_TABLE: list[tuple[str, list[str], list[str], bytes | None]] = [
    # (id, options before -c, command and its args, stdin)
    ("echo", [], ["echo hello"], None),
    ("double-quotes", [], ['echo "a  b"   c'], None),
    ("single-quotes", [], ["echo 'it''s' '$HOME' \"$((1+2))\""], None),
    ("escapes", [], ["printf '%s|%d\\n' 'x y' 42; printf 'tab\\there\\n'"], None),
    ("unicode", [], ["echo 'héllo wörld ✓'"], None),
    ("exit-0", [], ["true"], None),
    ("exit-1", [], ["false"], None),
    ("exit-42", [], ["exit 42"], None),
    ("exit-last-of-pipeline", [], ["echo x | grep -q y"], None),
    ("stderr", [], ["echo out; echo err >&2; echo out2"], None),
    ("stderr-and-status", [], ["echo oops >&2; exit 3"], None),
    ("stdin-cat", [], ["cat"], b"line one\nline two\n"),
    ("stdin-read", [], ["read a b; echo \"[$b][$a]\""], b"first second\n"),
    ("stdin-wc", [], ["wc -c"], b"x" * 100_000),
    ("stdin-none", [], ["cat"], b""),
    ("heredoc", [], ["X=42; cat <<EOF\nvalue: $X and ${X}\nEOF"], None),
    ("heredoc-quoted", [], ["cat <<'EOF'\nno $expansion `here`\nEOF"], None),
    ("heredoc-tabs", [], ["cat <<-EOF\n\tindented\n\tEOF"], None),
    ("positional", [], ["echo \"$0|$1|$2|$#\"", "name", "a b", "c"], None),
    ("positional-at", [], ["for x in \"$@\"; do echo \"<$x>\"; done", "n", "1 2", "", "3"], None),
    ("set-e", ["-e"], ["false; echo not reached"], None),
    ("set-u", ["-u"], ["echo $UNSET_VARIABLE_X"], None),
    ("subshell-and-vars", [], ["X=1; (X=2; echo $X); echo $X"], None),
    ("if-and-loops", [], ["for i in 1 2 3; do if [ $i -gt 1 ]; then echo $i; fi; done"], None),
    ("semicolons-and-and", [], ["true && echo yes; false || echo no"], None),
    ("no-trailing-newline", [], ["printf 'no newline'"], None),
]


def _env(ws: Path) -> dict[str, str]:
    return {**os.environ, "GUARDRAIL_WORKSPACE": str(ws), "GUARDRAIL_SH_STDIN": "auto"}


def _guardrail_sh(args: list[str], stdin: bytes | None, ws: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "guardrail.cli.sh", "--no-sandbox", *args],
                          input=stdin if stdin is not None else b"", capture_output=True, cwd=ws, env=_env(ws),
                          timeout=60, check=False)


@pytest.mark.parametrize(("opts", "command", "stdin"), [c[1:] for c in SH_TABLE], ids=[c[0] for c in SH_TABLE])
def test_like_sh_c(opts: list[str], command: list[str], stdin: bytes | None, workspace: Path) -> None:
    args = [*opts, "-c", *command]
    want = subprocess.run(["/bin/sh", *args], input=stdin if stdin is not None else b"", capture_output=True,
                          cwd=workspace, timeout=60, check=False)
    got = _guardrail_sh(args, stdin, workspace)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr), got.stderr


def test_refused_command_exits_126_with_the_rule(workspace: Path) -> None:
    got = _guardrail_sh(["-c", "rm -rf ~"], None, workspace)
    assert got.returncode == 126 and got.stdout == b""
    assert b"guardrail: refused" in got.stderr and b"[rule: change-outside]" in got.stderr


def test_ask_without_a_human_is_refused(workspace: Path) -> None:
    got = _guardrail_sh(["-c", "pip install requests"], None, workspace)
    assert got.returncode == 126 and b"refused" in got.stderr


def test_literal_sh_c_with_args_is_still_read(workspace: Path) -> None:
    got = _guardrail_sh(["-c", "rm -rf \"$1\"", "sh", "/etc"], None, workspace)
    assert got.returncode == 126, got.stderr


def test_runs_are_audited(workspace: Path) -> None:
    _guardrail_sh(["-c", "echo hi"], None, workspace)
    trail = (workspace / ".guardrail" / "audit.jsonl").read_text()
    assert '"command":"echo hi"' in trail


def test_script_from_stdin(workspace: Path) -> None:
    got = subprocess.run([sys.executable, "-m", "guardrail.cli.sh", "--no-sandbox"], input=b"echo from stdin\n",
                         capture_output=True, cwd=workspace, env=_env(workspace), timeout=60, check=False)
    assert (got.returncode, got.stdout) == (0, b"from stdin\n")


@pytest.mark.parametrize("argv", [["-c"], ["-Z", "-c", "x"], ["--policy"], ["-o"]])
def test_usage_errors(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_args(argv, env={})


def test_settings_from_environment_and_flags() -> None:
    inv = parse_args(["-lc", "ls"], env={"GUARDRAIL_POLICY": "strict", "GUARDRAIL_NO_SANDBOX": "1"})
    assert (inv.command, inv.policy, inv.no_sandbox) == ("ls", "strict", True)
    inv = parse_args(["--policy", "ci", "-c", "ls"], env={"GUARDRAIL_POLICY": "strict"})
    assert inv.policy == "ci" and not inv.no_sandbox
