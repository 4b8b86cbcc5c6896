"""`guardrail-sh`: a `sh` that agents can be given, which checks before it runs.

An agent that lets the user choose its shell (`SHELL=...`, a config key)
starts `guardrail-sh -c 'CMD' [NAME [ARGS...]]` exactly as it would start
`sh`. guardrail-sh reads the command line like `sh` does, sends it through
`Guard.run` (check, approval, sandbox, audit) and gives the agent back what
`sh -c` would: the command's stdout and stderr as they come, its standard
input, and its exit status. A refused command exits 126 with the reason
(and rule) on stderr, which is what agents show their model.

Settings (flags beat the environment): `--policy P` / GUARDRAIL_POLICY,
`--workspace DIR` / GUARDRAIL_WORKSPACE (default: the current directory),
`--no-sandbox` / GUARDRAIL_NO_SANDBOX=1 (run on the host after the check),
GUARDRAIL_SH_STDIN=auto|none (auto: pass stdin when it is not a terminal).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import Any

EXIT_REFUSED = 126
EXIT_USAGE = 2
# sh options that only change how the line runs; the decision ignores them
_SET_OPTIONS = set("aefhmnuvxC")
_IGNORED = set("ils")  # login, interactive, read from stdin: nothing to pass on


class UsageError(ValueError):
    pass


@dataclass
class Invocation:
    """What `guardrail-sh ARGS` was asked to run."""

    command: str | None = None  # the -c string (or a script's text when read from stdin)
    argv0: str | None = None
    args: list[str] = field(default_factory=list)
    script: str | None = None  # `guardrail-sh FILE ARGS`
    set_flags: str = ""  # -e -u -x ... as one `set -eux` prefix
    pipefail: bool = False
    policy: str | None = None
    workspace: str | None = None
    no_sandbox: bool = False

    def line(self) -> str:
        """The shell line to check and run, faithful to what `sh -c` would have done."""
        if self.script is not None:
            body = shlex.join(["sh", self.script, *self.args])
        else:
            assert self.command is not None
            body = self.command
            if self.argv0 is not None:  # $0 and positional parameters: let sh set them, visibly
                body = shlex.join(["sh", "-c", self.command, self.argv0, *self.args])
        prefix = ""
        if self.set_flags:  # on the same line, so that sh's error messages keep their line numbers
            prefix += f"set -{self.set_flags}; "
        if self.pipefail:
            prefix += "set -o pipefail; "
        return prefix + body


def parse_args(argv: list[str], env: dict[str, str] | None = None) -> Invocation:
    """`sh`-style options (-c, -e, -x, -o pipefail, -l ...) plus guardrail's own long options."""
    env = dict(os.environ) if env is None else env
    inv = Invocation(policy=env.get("GUARDRAIL_POLICY") or None, workspace=env.get("GUARDRAIL_WORKSPACE") or None,
                     no_sandbox=env.get("GUARDRAIL_NO_SANDBOX", "").lower() in ("1", "true", "yes"))
    want_c = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        name, eq, value = arg.partition("=")
        if name in ("--policy", "--workspace"):
            if not eq:
                i += 1
                if i >= len(argv):
                    raise UsageError(f"{name} needs a value")
                value = argv[i]
            setattr(inv, name[2:], value)
        elif arg == "--no-sandbox":
            inv.no_sandbox = True
        elif arg in ("-o", "+o"):
            i += 1
            if i >= len(argv):
                raise UsageError("-o needs an option name")
            if argv[i] == "pipefail":
                inv.pipefail = arg == "-o"
        elif arg.startswith("-") and len(arg) > 1 and not arg.startswith("--"):
            for letter in arg[1:]:
                if letter == "c":
                    want_c = True
                elif letter in _SET_OPTIONS:
                    inv.set_flags += letter
                elif letter not in _IGNORED:
                    raise UsageError(f"unsupported option -{letter}")
        else:
            break
        i += 1
    rest = argv[i:]
    if want_c:
        if not rest:
            raise UsageError("-c needs a command string")
        inv.command, rest = rest[0], rest[1:]
        if rest:
            inv.argv0, inv.args = rest[0], rest[1:]
    elif rest:
        inv.script, inv.args = rest[0], rest[1:]
    return inv


def run(inv: Invocation, *, stdin: bytes | None) -> int:
    """Check, approve and run the line; stream its output; return `sh`'s exit status."""
    import sys

    from guardrail.errors import GuardrailError

    out, err = sys.stdout.buffer, sys.stderr.buffer
    workspace = os.path.realpath(inv.workspace or os.getcwd())
    if not os.path.isdir(workspace):
        err.write(f"guardrail-sh: workspace {workspace} is not a directory\n".encode())
        return EXIT_USAGE
    try:
        guard: Any = _guard(inv, workspace)
    except GuardrailError as exc:
        err.write(f"guardrail-sh: {exc}\n".encode())
        return EXIT_USAGE
    here = os.path.realpath(os.getcwd())
    cwd = here if here == workspace or here.startswith(workspace.rstrip("/") + "/") else workspace

    def on_output(stream: str, chunk: bytes) -> None:
        target = out if stream == "stdout" else err
        target.write(chunk)
        target.flush()

    try:
        result = guard.run({"tool": "shell", "command": inv.line(), "cwd": cwd}, stdin=stdin, on_output=on_output)
    finally:
        guard.close()
    if not result.ran:
        rules = result.decision.rules
        err.write(f"guardrail: refused: {result.reason}{' [rule: ' + ', '.join(rules) + ']' if rules else ''}\n"
                  .encode())
        err.flush()
        return EXIT_REFUSED if result.exit_code is None else int(result.exit_code)
    if result.error and result.exit_code is None:
        err.write(f"guardrail-sh: {result.error}\n".encode())
        return EXIT_REFUSED
    return int(result.exit_code if result.exit_code is not None else 0)


def _guard(inv: Invocation, workspace: str) -> object:
    """The guard; with --no-sandbox, a host runner that keeps stderr the command's own.

    `guardrail run --no-sandbox` warns on stderr that nothing is contained;
    here the agent reads stderr as the command's, and the user chose the
    mode in the agent's configuration, so the warning is left out.
    """
    from pathlib import Path

    from guardrail.pipeline import Guard
    from guardrail.policy.loader import load_policy

    policy = load_policy(inv.policy)
    if not inv.no_sandbox:
        return Guard(policy, workspace)
    from guardrail.sandbox.config import config_from_policy
    from guardrail.sandbox.host import HostSandbox

    class QuietHost(HostSandbox):
        def start(self) -> None:
            self._warned = True

    session = os.environ.get("GUARDRAIL_SESSION") or "default"
    sandbox = QuietHost(config_from_policy(policy.sandbox), Path(workspace), session)
    return Guard(policy, workspace, session=session, no_sandbox=True, sandbox=sandbox)
