"""A whole shell line -> effects: per command, then the flows between commands.

`commands` says what each simple command does on its own; this module adds
what only the line as a whole shows:

- redirections (`> f` writes f, `< f` reads it, `/dev/tcp/...` is a socket);
- code that runs code: a literal program given to a shell (`bash -c '...'`,
  `echo '...' | sh`, a script written with literal content earlier in the
  line and then run) is parsed as a line of its own; anything else that
  becomes code is dynamic;
- remote code: network data flowing into a shell or interpreter, through a
  pipe, a substitution or a file downloaded earlier in the line;
- reverse shells: a shell or interpreter wired to `/dev/tcp`;
- exfiltration: files, the environment or variables flowing into a
  network request (`FlowEffect`; the policy decides which are secret).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from guardrail.effects import CodeEffect, Effect, ExecEffect, FlowEffect, NetEffect, PathEffect
from guardrail.parsers.commands import (
    DOWNLOADED,
    Catalog,
    Ctx,
    Info,
    add_path,
    analyse_words,
    env_assignment,
    path_effect,
)
from guardrail.parsers.paths import PathContext, Resolved, expand_home, resolve
from guardrail.parsers.shell import (
    ParsedLine,
    SimpleCommand,
    Word,
    decode_ansi_c,
    iter_words,
    parse_line,
)

MAX_NESTING = 8  # bash -c 'bash -c "..."' levels read as code
Source = tuple[str, "str | None", "str | None", "str | None"]  # (origin, path, location, variable)
CODE_TAGS = frozenset({"shell", "interpreter"})
# Files a build or test runner reads and runs (a Makefile's recipes, package.json's scripts, ...).
BUILD_INPUTS = frozenset({
    "Makefile", "makefile", "GNUmakefile", "package.json", "setup.py", "pyproject.toml", "setup.cfg",
    "Cargo.toml", "build.rs", "build.gradle", "build.gradle.kts", "settings.gradle", "pom.xml",
    "Rakefile", "Gemfile", "tox.ini", "noxfile.py", "conftest.py", "CMakeLists.txt", "justfile",
    "Justfile", "go.mod", "pytest.ini", "mix.exs", "build.sbt", "meson.build", "BUILD", "WORKSPACE",
})  # fmt: skip
_ARITHMETIC_BUILTINS = frozenset({"printf", "test", "[", "let", "declare", "typeset", "local", "readonly",
                                  "read", "unset", "export", "mapfile", "readarray"})
_ENVIRON = re.compile(r"^/proc/[^/]+/environ$")
_TCP_RE = re.compile(r"^/dev/(tcp|udp)/([^/]+)/(\d+)")


@dataclass
class LineState:
    """What one line (and the literal code inside it) has done so far."""

    paths: PathContext
    catalog: Catalog
    written: dict[str, str | None] = field(default_factory=dict)  # path -> literal content / None / DOWNLOADED
    depth: int = 0
    links: dict[str, str] = field(default_factory=dict)  # symlinks made earlier in the line: path -> target
    origins: dict[str, list[Source]] = field(default_factory=dict)  # file written in the line -> its data's sources
    stdin_tainted: bool = False  # this (literal) code reads network data on its standard input


def shell_effects(command: str, paths: PathContext, catalog: Catalog, *, cwd: str | None = None,
                  state: LineState | None = None,
                  variables: dict[str, str | None] | None = None) -> list[Effect]:
    """Every effect of running `command` in `cwd` (default: the workspace)."""
    state = state or LineState(paths, catalog)
    cwd = paths.workspace if cwd is None else cwd
    if state.depth > MAX_NESTING:
        return [CodeEffect("too_complex", f"code nested more than {MAX_NESTING} levels", command[:200])]
    parsed = parse_line(command, home=paths.home, workspace=paths.workspace, cwd=cwd, variables=variables)
    effects = _LineAnalysis(parsed, state, command).run()
    if parsed.errors and state.depth == 0:
        effects.extend(_fragment_effects(command, paths, catalog, cwd, state))
    return effects


_SEPARATORS = re.compile(r";|&&|\|\||\||\n|&")
MAX_FRAGMENTS = 32


def _fragment_effects(command: str, paths: PathContext, catalog: Catalog, cwd: str | None,
                      state: LineState) -> list[Effect]:
    """A line that does not parse may still hide a command that would run.

    bash refuses such a line, but the parser's error recovery is not bash's:
    so the text before and after each separator (the first and last few) is
    also read as a line of its own, and the effects of those that parse are
    added: they can only make the decision stricter.
    """
    cuts = [m for m in _SEPARATORS.finditer(command)]
    cuts = cuts[: MAX_FRAGMENTS // 2] + cuts[-(MAX_FRAGMENTS // 2) :] if len(cuts) > MAX_FRAGMENTS else cuts
    fragments: list[str] = []
    for m in cuts:
        fragments.append(command[: m.start()])
        fragments.append(command[m.end() :])
    out: list[Effect] = []
    seen: set[str] = set()
    for fragment in fragments:
        fragment = fragment.strip()
        if not fragment or fragment in seen:
            continue
        seen.add(fragment)
        parsed = parse_line(fragment, home=paths.home, workspace=paths.workspace, cwd=cwd)
        if parsed.errors or parsed.too_complex:
            continue
        sub = LineState(paths, catalog, state.written, state.depth + 1, links=state.links, origins=state.origins)
        out.extend(_LineAnalysis(parsed, sub, fragment).run())
    return out


class _LineAnalysis:
    def __init__(self, parsed: ParsedLine, state: LineState, text: str) -> None:
        self.parsed = parsed
        self.state = state
        self.text = text
        self.effects: list[Effect] = []
        self.infos: dict[int, Info] = {}
        self.by_id = {c.id: c for c in parsed.commands}

    def run(self) -> list[Effect]:
        p = self.parsed
        source = self.text[:200]
        for err in p.errors[:3]:
            self.effects.append(CodeEffect("unparsed", err, source))
        if p.too_complex:
            self.effects.append(CodeEffect("too_complex", p.too_complex, source))
        for name in p.fork_bombs:
            self.effects.append(CodeEffect("fork_bomb", f"function {name!r} runs itself in parallel", source))
        for cmd in p.commands:
            self._command(cmd)
        self._taint_pass()
        for hidden in p.hidden_code[:16]:
            self.effects.extend(self._recurse(hidden, self.state.paths.workspace))
        if p.tcp_redirect_fds and any(
            (CODE_TAGS | {"dynamic"}) & info.tags for info in self.infos.values()
        ):
            self.effects.append(CodeEffect("reverse_shell", "a shell runs in a line that opens /dev/tcp", source))
        elif p.tcp_redirect_fds and re.search(r"<>\s*/dev/(tcp|udp)/", self.text) and any(
            info.reads_stdin_program for info in self.infos.values()
        ):
            self.effects.append(CodeEffect("reverse_shell", "a shell reads a socket", source))
        return self.effects

    # -- one command
    def _command(self, cmd: SimpleCommand) -> None:
        info = Info()
        stdin_text, _ = self._stdin_text(cmd)
        ctx = Ctx(self.state.paths, self.state.catalog, cmd, self._recurse, self.state.depth,
                  self._find_upstream(cmd), stdin_text, self.state.links)
        try:
            for name, value in cmd.assignments:
                env_assignment(name, value, ctx, info)
            head = cmd.words[0].value if cmd.words else None
            if head is not None and head in self.parsed.functions and head not in self.parsed.fork_bombs:
                # a function defined in the line: its body again, with this call's $1, $2, ...
                args = {str(i): w.value for i, w in enumerate(cmd.words[:10])}
                if len(cmd.words) == 2:
                    args["@"] = args["*"] = cmd.words[1].value  # one argument: "$@" is that word
                fed = list(cmd.pipe_from) + self._stdin_subs(cmd)
                tainted = self._inherits_tainted_stdin(cmd) or any(
                    self._is_net(self.by_id[f]) for f in fed if f in self.by_id)
                body = self._recurse(self.parsed.functions[head], cmd.cwd, args, stdin_tainted=tainted)
                info.effects.extend(body)
                # what the body fetches is the call's output (`f | sh` with f running curl)
                info.network_source = any(isinstance(e, NetEffect) for e in body)
            else:
                analyse_words(cmd.words, ctx, info)
        except RecursionError:
            info.effects.append(CodeEffect("too_complex", "command nested too deeply", cmd.text))
        self._arithmetic_text(cmd, info)
        self._literal_output(cmd, info)
        self._redirects(cmd, ctx, info)
        names, _ = self._derived([v for w in iter_words(cmd) for v in w.variables])
        info.variables = sorted(names)
        self.infos[cmd.id] = info
        self.effects.extend(info.effects)
        self._code(cmd, info)
        self._scripts(cmd, info)
        self._flows(cmd, info)
        self._built_from_written(cmd, info)
        self._record_origins(cmd, info)
        self._record_writes(cmd, info)
        self._record_links(cmd)

    def _recurse(self, code_text: str, cwd: str | None,
                 variables: dict[str, str | None] | None = None, *, stdin_tainted: bool = False) -> list[Effect]:
        sub = LineState(self.state.paths, self.state.catalog, self.state.written, self.state.depth + 1,
                        links=self.state.links, origins=self.state.origins, stdin_tainted=stdin_tainted)
        return shell_effects(code_text, self.state.paths, self.state.catalog, cwd=cwd, state=sub,
                             variables=variables)

    def _find_upstream(self, cmd: SimpleCommand) -> Resolved | None:
        """xargs fed by `find P` or `git ls-files`: its paths are judged as P (or W)."""
        for uid in reversed(cmd.pipe_from):
            up = self.by_id.get(uid)
            if up is None or not up.words or up.words[0].value is None:
                continue
            name = up.words[0].value.rsplit("/", 1)[-1]
            if name in ("find", "fd", "fdfind"):
                return _find_roots(up, self.state.paths)
            if name == "git" and any(w.value == "ls-files" for w in up.words[1:3]):
                return Resolved(self.state.paths.workspace, "inside")
            return None
        return None

    def _arithmetic_text(self, cmd: SimpleCommand, info: Info) -> None:
        """`printf -v 'a[$(cmd)]' x`, `test -v 'a[$(cmd)]'`, `let`: bash evaluates array indexes in
        text handed to these builtins, running any substitution written there."""
        if not cmd.words or cmd.words[0].value not in _ARITHMETIC_BUILTINS:
            return
        for word in cmd.words[1:]:
            if word.value is not None and ("$(" in word.value or "`" in word.value) and "[" in word.value:
                info.effects.append(CodeEffect("dynamic", f"{cmd.words[0].value} may evaluate {word.value[:60]!r} as code", cmd.text))
                info.effects.extend(self._recurse(word.value, cmd.cwd))  # and what the index runs
                return

    # -- literal output of echo/printf/cat <<EOF
    def _literal_output(self, cmd: SimpleCommand, info: Info) -> None:
        if not cmd.words or cmd.words[0].value is None:
            return
        name = cmd.words[0].value
        args = cmd.words[1:]
        if name == "echo":
            words = [w for w in args if w.value not in ("-n", "-e", "-E", "-ne", "-en")]
            if all(w.value is not None for w in words):
                text = " ".join(w.value or "" for w in words) + "\n"
                if any(w.value in ("-e", "-ne", "-en") for w in args):
                    text = decode_ansi_c(text)
                info.literal_output = text
                info.output_known = True
        elif name == "printf":
            if args and all(w.value is not None for w in args) and not (args[0].value or "").startswith("-"):
                fmt = decode_ansi_c((args[0].value or "").replace("%%", "\x00"))
                rest = " ".join(w.value or "" for w in args[1:])
                info.literal_output = re.sub(r"%[-+ #0-9.]*[sdbq]", rest, fmt, count=1).replace("\x00", "%")
                if "%" not in fmt and rest:
                    info.literal_output += rest
                info.output_known = True
        elif name == "cat" and len(args) == 0:
            here = next((r for r in cmd.redirects if r.op in ("<<", "<<<")), None)
            if here is not None and here.text is not None and here.body_known:
                info.literal_output = here.text
                info.output_known = True

    def _stdin_text(self, cmd: SimpleCommand) -> tuple[str | None, bool]:
        """The literal standard input of `cmd` and whether it has any."""
        for red in cmd.redirects:
            if red.op in ("<<", "<<<"):
                return (red.text if red.body_known else None), True
            if red.op in ("<", "<&") and red.target is not None and not (red.target.value or "").isdigit():
                return None, True
        feeders = [self.infos[u] for u in cmd.pipe_from if u in self.infos]
        direct = [u for u in cmd.pipe_from if cmd.id in self.by_id[u].pipe_to] if cmd.pipe_from else []
        if not feeders:
            return None, False
        texts = [self.infos[u].literal_output for u in direct if u in self.infos]
        if direct and all(self.infos[u].output_known for u in direct if u in self.infos):
            return "".join(t or "" for t in texts), True
        return None, True

    # -- code run by shells and interpreters
    def _code(self, cmd: SimpleCommand, info: Info) -> None:
        tainted_now = self._stdin_tainted_now(cmd)
        for text in info.code_strings:
            self.effects.extend(self._recurse(text, cmd.cwd, info.code_vars or None, stdin_tainted=tainted_now))
        for sub_ids, kind in info.script_subs:
            self._script_from_substitution(cmd, sub_ids, kind)
        if info.reads_stdin_program:
            self._stdin_program(cmd, info)

    def _inherits_tainted_stdin(self, cmd: SimpleCommand) -> bool:
        """A top-level command with no stdin of its own, in code whose stdin is network data."""
        return (self.state.stdin_tainted and cmd.in_sub_of is None and not cmd.pipe_from
                and not self._stdin_subs(cmd))

    def _stdin_tainted_now(self, cmd: SimpleCommand) -> bool:
        """Network data on this command's stdin, from what was analysed before it."""
        if self._inherits_tainted_stdin(cmd):
            return True
        feeders = self._infos_of(list(cmd.pipe_from) + self._stdin_subs(cmd))
        return any(i.network_source or "network" in i.tags for i in feeders)

    def _stdin_subs(self, cmd: SimpleCommand) -> list[int]:
        """Substitutions whose output is this command's standard input
        (`< <(curl ..)`, `<<< "$(curl ..)"`, a here-doc with `$(..)`)."""
        ids: list[int] = []
        for red in cmd.redirects:
            if red.op in ("<<", "<<<"):
                ids.extend(red.subs)
            elif red.op in ("<", "<>") and red.target is not None and red.target.process_sub:
                ids.extend(red.target.subs)
        return ids

    def _script_from_substitution(self, cmd: SimpleCommand, sub_ids: list[int], kind: str) -> None:
        """`bash <(echo 'rm -rf ~')`: the program is the substitution's output."""
        top = [i for i in sub_ids if i in self.infos and self.by_id[i].in_sub_of == cmd.id]
        last = top[-1] if top else None
        info = self.infos.get(last) if last is not None else None
        if info is not None and info.output_known and info.literal_output is not None and kind == "shell":
            self.effects.extend(self._recurse(info.literal_output, cmd.cwd))
        elif not any(i.network_source or "network" in i.tags or "decoder" in i.tags
                     for i in self._infos_of(sub_ids)):
            self.effects.append(CodeEffect("dynamic", f"a {kind} runs a program made by a process substitution", cmd.text))

    def _stdin_program(self, cmd: SimpleCommand, info: Info) -> None:
        kind = info.reads_stdin_program
        if self._stdin_tainted_now(cmd) or self._stdin_from_socket(cmd):
            return  # the taint pass calls this remote code
        text, has_input = self._stdin_text(cmd)
        file_input = next((r.target for r in cmd.redirects if r.op == "<" and r.target is not None), None)
        if file_input is not None:
            eff = path_effect("exec", file_input, Ctx(self.state.paths, self.state.catalog, cmd, self._recurse,
                                                                           links=self.state.links))
            if eff is not None:
                self.effects.append(eff)
                if eff.path:
                    self._script_written(cmd, eff.path, "shell" if kind == "shell" else "interpreter")
            return
        if text is not None and kind == "shell":
            self.effects.extend(self._recurse(text, cmd.cwd))
            return
        if not has_input:
            self.effects.append(CodeEffect("stdin_program", f"an interactive {kind} reads the agent's input", cmd.text))
            return
        self.effects.append(CodeEffect("stdin_program", f"a {kind} runs a program from its standard input", cmd.text))

    def _taint_pass(self) -> None:
        """Network and decoded data through pipes, substitutions, here-strings, variables and
        FIFOs, once every command is known (a `>(sh)` runs before the command that feeds it)."""
        commands = self.parsed.commands

        net: dict[int, bool] = {c.id: self._is_net(c) or self._inherits_tainted_stdin(c) for c in commands}
        dec: dict[int, bool] = {c.id: "decoder" in self.infos[c.id].tags for c in commands if c.id in self.infos}
        for _ in range(len(commands) + 1):
            changed = False
            for c in commands:
                feeders = list(c.pipe_from) + self._stdin_subs(c) + self._arg_subs(c)
                for table in (net, dec):
                    if not table.get(c.id) and any(table.get(f) for f in feeders) and self._passes_data(c):
                        table[c.id] = True
                        changed = True
            if not changed:
                break
        for c in commands:
            info = self.infos.get(c.id)
            if info is None:
                continue
            feeders = list(c.pipe_from) + self._stdin_subs(c)
            stdin_net = self._inherits_tainted_stdin(c) or any(net.get(f) for f in feeders) or self._stdin_from_socket(c)
            stdin_dec = any(dec.get(f) for f in feeders)
            code_ids = self._code_ids(info)
            if info.reads_stdin_program or info.tags & {"inline_code", "runs_input"}:
                if stdin_net:
                    self.effects.append(CodeEffect("remote_code", "network data is the program of a shell or interpreter", c.text))
                elif stdin_dec and info.reads_stdin_program:
                    self.effects.append(CodeEffect("decoded_code", "decoded data is the program of a shell", c.text))
            elif stdin_net and "interpreter" in info.tags:
                # `curl ... | python3 tool.py`: the data may steer the program (pickle, eval); a human looks
                self.effects.append(CodeEffect("runs_programs", "network data is the input of an interpreter", c.text))
            if any(net.get(i) for i in code_ids):
                self.effects.append(CodeEffect("remote_code", "network data becomes code through a substitution or variable", c.text))
            elif any(dec.get(i) for i in code_ids):
                self.effects.append(CodeEffect("decoded_code", "decoded data becomes code through a substitution", c.text))
            if (info.reads_stdin_program or "-i" in self._flags(info)) and self._feeds_network(c):
                self.effects.append(CodeEffect("reverse_shell", "a shell's input and output are wired to a network tool", c.text))

    def _is_net(self, cmd: SimpleCommand) -> bool:
        """Its output is network data: a network tool, or a read of a file downloaded in the line."""
        info = self.infos.get(cmd.id)
        if info is None:
            return False
        if info.network_source or "network" in info.tags:
            return True
        return any(isinstance(e, PathEffect) and e.op == "read" and e.path is not None
                   and self.state.written.get(e.path) == DOWNLOADED for e in info.effects)

    def _passes_data(self, cmd: SimpleCommand) -> bool:
        """Whether a command's output carries its input (cat, tee, a loop...), as far as we can tell: all do."""
        return True

    def _arg_subs(self, cmd: SimpleCommand) -> list[int]:
        """Substitutions and variables in a command's words: its output may carry them
        (`echo "$(curl ..)" | sh`, `X=$(curl ..); printf %s "$X" | bash`)."""
        ids = [i for w in cmd.words[1:] for i in w.subs]
        _, derived = self._derived([v for w in cmd.words[1:] for v in w.variables])
        return ids + sorted(derived)

    def _arg_process_subs(self, cmd: SimpleCommand) -> list[int]:
        return [i for w in cmd.words if w.process_sub == "<" for i in w.subs]

    def _code_ids(self, info: Info) -> list[int]:
        """Commands whose output becomes code here: substitutions, and those behind variables."""
        ids = list(info.code_args_subs)
        _, derived_subs = self._derived(info.code_vars_used)
        ids.extend(derived_subs)
        out: list[int] = []
        stack = list(ids)
        seen: set[int] = set()
        while stack:
            cid = stack.pop()
            if cid in seen or cid not in self.by_id:
                continue
            seen.add(cid)
            out.append(cid)
            stack.extend(c.id for c in self.parsed.commands if c.in_sub_of == cid)
            stack.extend(self.by_id[cid].pipe_from)
        return out

    @staticmethod
    def _flags(info: Info) -> set[str]:
        flags: set[str] = set()
        for eff in info.effects:
            if isinstance(eff, ExecEffect) and eff.tags & CODE_TAGS:
                flags |= eff.flags
        return flags

    def _feeds_network(self, cmd: SimpleCommand) -> bool:
        stack = list(cmd.pipe_to)
        seen: set[int] = set()
        while stack:
            cid = stack.pop()
            if cid in seen or cid not in self.by_id:
                continue
            seen.add(cid)
            if self._is_net(self.by_id[cid]):
                return True
            stack.extend(self.by_id[cid].pipe_to)
        return False

    def _stdin_from_socket(self, cmd: SimpleCommand) -> bool:
        for red in cmd.redirects:
            if red.op in ("<", "<>") and red.target is not None and _TCP_RE.match(red.target.value or ""):
                return True
        return False

    def _upstream_infos(self, cmd: SimpleCommand) -> list[Info]:
        return [self.infos[u] for u in cmd.pipe_from if u in self.infos]

    def _infos_of(self, ids: list[int]) -> list[Info]:
        out: list[Info] = []
        seen: set[int] = set()
        stack = list(ids)
        while stack:
            cid = stack.pop()
            if cid in seen or cid not in self.infos:
                continue
            seen.add(cid)
            out.append(self.infos[cid])
            # commands nested inside that substitution, and what feeds them
            stack.extend(c.id for c in self.parsed.commands if c.in_sub_of == cid)
            stack.extend(self.by_id[cid].pipe_from)
        return out

    # -- scripts written or downloaded earlier in the line
    def _scripts(self, cmd: SimpleCommand, info: Info) -> None:
        for path, kind in info.scripts_run:
            if path == "<process substitution>":
                continue
            self._script_written(cmd, path, kind)

    def _script_written(self, cmd: SimpleCommand, path: str, kind: str) -> None:
        if path not in self.state.written and self._downloaded(path):
            self.effects.append(CodeEffect("downloaded_then_run", f"{path} lies where a download was unpacked earlier in the line", cmd.text))
            return
        if path not in self.state.written:
            return
        content = self.state.written[path]
        if content == DOWNLOADED:
            self.effects.append(CodeEffect("downloaded_then_run", f"{path} was downloaded earlier in the line", cmd.text))
        elif content is None:
            self.effects.append(CodeEffect("dynamic", f"{path} was written earlier in the line with content not known", cmd.text))
        elif kind in ("shell", "program"):
            self.effects.extend(self._recurse(content, cmd.cwd))
        else:
            self.effects.append(CodeEffect("dynamic", f"{path} was written earlier in the line and is run by an interpreter", cmd.text))

    def _copy_written(self, cmd: SimpleCommand, info: Info) -> None:
        """`cp x.sh y.sh`, `mv x.sh y.sh`: the copy has the content the original had in the line."""
        for eff in info.effects:
            if not isinstance(eff, ExecEffect) or eff.command not in ("cp", "mv", "install"):
                continue
            args = [a for a in eff.argv[1:] if not a.startswith("-")]
            if len(args) != 2 or cmd.cwd is None:
                continue
            src = resolve(args[0], cmd.cwd, self.state.paths, links=self.state.links).path
            dst = resolve(args[1], cmd.cwd, self.state.paths, links=self.state.links).path
            if src in self.state.written and dst:
                self.state.written[dst] = self.state.written[src]

    def _built_from_written(self, cmd: SimpleCommand, info: Info) -> None:
        """`printf 'all:\\n\\trm -rf ~' > Makefile; make`: a build runs a file written in the line."""
        if not any(isinstance(e, ExecEffect) and "project_runner" in e.tags for e in info.effects):
            return
        for path, content in list(self.state.written.items()):
            if posixpath.basename(path) not in BUILD_INPUTS:
                continue
            if content == DOWNLOADED:
                self.effects.append(CodeEffect("downloaded_then_run", f"{path} was downloaded earlier in the line and the build runs it", cmd.text))
            else:
                self.effects.append(CodeEffect("dynamic", f"{path} was written earlier in the line and the build runs it", cmd.text))

    def _record_writes(self, cmd: SimpleCommand, info: Info) -> None:
        redirected = {r.target.value for r in cmd.redirects if r.target is not None}
        for eff in info.effects:
            if isinstance(eff, PathEffect) and eff.op == "write" and eff.path and eff.raw not in redirected:
                self.state.written.setdefault(eff.path, None)  # written with content we do not know
        self._copy_written(cmd, info)
        for path in info.downloads:
            self.state.written[path] = DOWNLOADED
        upstream = self._upstream_infos(cmd)
        if self._reads_downloaded(cmd, info, upstream):
            # `dd if=dl of=y`, `tar xf dl.tgz`, `base64 -d dl > y`: what it writes carries the download
            for eff in info.effects:
                if isinstance(eff, PathEffect) and eff.op == "write" and eff.path:
                    self.state.written[eff.path] = DOWNLOADED
            for red in cmd.redirects:
                if red.op in (">", ">>", ">|", "&>", "&>>") and red.target is not None and red.target.value:
                    res = resolve(red.target.value, cmd.cwd, self.state.paths)
                    if res.path and res.location not in ("harmless_device", "device"):
                        self.state.written[res.path] = DOWNLOADED
            return
        for red in cmd.redirects:
            if red.op not in (">", ">>", ">|", "&>", "&>>") or red.target is None or red.target.value is None:
                continue
            res = resolve(red.target.value, cmd.cwd, self.state.paths)
            if res.path is None or res.location in ("harmless_device", "device"):
                continue
            content: str | None
            if info.network_source or ("network" in info.tags and not info.downloads):
                content = DOWNLOADED
            elif info.output_known:
                content = info.literal_output
                prev = self.state.written.get(res.path)
                if red.op in (">>", "&>>") and prev is not None:
                    content = DOWNLOADED if prev == DOWNLOADED else prev + (content or "")
            elif (cmd.words and cmd.words[0].value == "tee") or not cmd.words:
                content = None
            else:
                content = None
            if any(u.network_source for u in upstream) and cmd.words and cmd.words[0].value in ("cat", "tee"):
                content = DOWNLOADED
            self.state.written[res.path] = content
        if cmd.words and cmd.words[0].value == "tee":
            text, _ = self._stdin_text(cmd)
            net = any(u.network_source or "network" in u.tags for u in upstream)
            for w in cmd.words[1:]:
                if w.value and not w.value.startswith("-"):
                    res = resolve(w.value, cmd.cwd, self.state.paths)
                    if res.path:
                        self.state.written[res.path] = DOWNLOADED if net else text

    def _reads_downloaded(self, cmd: SimpleCommand, info: Info, upstream: list[Info]) -> bool:
        """Its input is something downloaded earlier in the line (a file, or a pipe from the network)."""
        if any(u.network_source or "network" in u.tags for u in upstream):
            return True
        if cmd.words and cmd.words[0].value in ("echo", "printf") and any(
                self._is_net(self.by_id[i]) for i in self._arg_subs(cmd) if i in self.by_id):
            return True  # `echo "$(curl ..)" > f`
        if DOWNLOADED not in self.state.written.values():
            return False  # nothing downloaded yet: no need to resolve redirections (I/O)
        reads = [e.path for e in info.effects if isinstance(e, PathEffect) and e.op == "read" and e.path]
        for red in cmd.redirects:
            if red.op == "<" and red.target is not None and red.target.value:
                reads.append(resolve(red.target.value, cmd.cwd, self.state.paths).path or "")
        return any(self._downloaded(p) for p in reads if p)

    def _downloaded(self, path: str) -> bool:
        """`path`, or a directory it lies in, was filled from the network earlier in the line."""
        current = path
        while True:
            if self.state.written.get(current) == DOWNLOADED:
                return True
            parent = posixpath.dirname(current)
            if parent == current:
                return False
            current = parent

    def _derived(self, variables: list[str]) -> tuple[set[str], set[int]]:
        """The variables named, and those and the substitutions their values came from."""
        names: set[str] = set()
        subs: set[int] = set()
        stack = list(variables)
        while stack:
            name = stack.pop()
            if name in names:
                continue
            names.add(name)
            refs, ids = self.parsed.derived.get(name, (set(), set()))
            stack.extend(refs)
            subs |= ids
        return names, subs

    def _record_links(self, cmd: SimpleCommand) -> None:
        """`ln -s TARGET LINK` (however it is run: `/bin/ln`, `nice ln`, `ln -t DIR`): later
        paths through LINK lead to TARGET, though it does not exist yet; `mv` carries a link."""
        if cmd.cwd is None:
            return
        for eff in self.infos[cmd.id].effects:
            if not isinstance(eff, ExecEffect):
                continue
            if eff.command in ("ln", "link") or (eff.command == "cp" and eff.flags & {"-s", "--symbolic-link", "-l", "--link"}):
                self._record_ln(cmd, eff)
            elif eff.command == "mv":
                args = [a for a in eff.argv[1:] if not a.startswith("-")]
                if len(args) == 2:
                    src = resolve(args[0], cmd.cwd, self.state.paths, follow_last=False, links=self.state.links).path
                    dst = resolve(args[1], cmd.cwd, self.state.paths, follow_last=False, links=self.state.links).path
                    if src in self.state.links and dst:
                        self.state.links[dst] = self.state.links.pop(src)

    def _record_ln(self, cmd: SimpleCommand, eff: ExecEffect) -> None:
        argv = list(eff.argv[1:])
        symbolic = any(f in ("-s", "--symbolic") or (f.startswith("-") and not f.startswith("--") and "s" in f)
                       for f in eff.flags)
        target_dir: str | None = None
        args: list[str] = []
        i = 0
        while i < len(argv):
            a = argv[i]
            if a in ("-t", "--target-directory") and i + 1 < len(argv):
                target_dir = argv[i + 1]
                i += 2
                continue
            if a.startswith("--target-directory="):
                target_dir = a.split("=", 1)[1]
            elif a.startswith("-") and not a.startswith("--") and "t" in a[1:] and i + 1 < len(argv):
                target_dir = argv[i + 1]  # `ln -st DIR TARGET`
                i += 2
                continue
            elif not a.startswith("-") or a == "-":
                args.append(a)
            i += 1
        if not args:
            return
        pairs: list[tuple[str, str]] = []
        if target_dir is not None:
            pairs = [(t, posixpath.join(target_dir, posixpath.basename(t.rstrip("/")) or t)) for t in args]
        elif len(args) == 1:
            pairs = [(args[0], posixpath.basename(args[0].rstrip("/")) or args[0])]
        else:
            pairs = [(args[0], args[1])] if len(args) == 2 else [
                (t, posixpath.join(args[-1], posixpath.basename(t.rstrip("/")))) for t in args[:-1]]
        paths = self.state.paths
        for target, link_raw in pairs:
            link = resolve(link_raw, cmd.cwd, paths, follow_last=False, links=self.state.links).path
            if link is None:
                continue
            base = posixpath.dirname(link) if symbolic else (cmd.cwd or paths.workspace)
            expanded = expand_home(target, paths.home)
            absolute = expanded if expanded.startswith("/") else posixpath.join(base, expanded)
            self.state.links[link] = posixpath.normpath(absolute)

    # -- redirections
    def _redirects(self, cmd: SimpleCommand, ctx: Ctx, info: Info) -> None:
        for red in cmd.redirects:
            target = red.target
            if target is None or red.op in ("<<", "<<<"):
                continue
            value = target.value
            if red.op in (">&", "<&") and (value is None or value.isdigit() or value == "-"):
                if value is None:
                    info.effects.append(PathEffect("write", None, "unknown", cmd.text, target.raw))
                continue
            m = _TCP_RE.match(value or "")
            if m:
                from guardrail.parsers.url import classify_address, normalize_host

                host = normalize_host(m.group(2))
                eff = NetEffect(m.group(1), host, classify_address(host), cmd.text, port=int(m.group(3)))
                info.effects.append(eff)
                if red.op.startswith("<") or red.op == "<>":
                    info.network_source = True
                if red.op != "<":
                    info.sinks.append(eff)
                info.tags.add("network")
                continue
            ops: tuple[str, ...]
            if red.op in ("<",):
                ops = ("read",)
            elif red.op == "<>":
                ops = ("read", "write")
            else:
                ops = ("write",)
            for op in ops:
                add_path(info, op, target, ctx)

    # -- exfiltration
    def _flows(self, cmd: SimpleCommand, info: Info) -> None:
        if not info.sinks:
            return
        seen: set[Source] = set()
        for src in self._data_sources(cmd, info):
            if src in seen:
                continue
            seen.add(src)
            src_origin, src_path, src_loc, src_var = src
            home = self.state.paths.home.rstrip("/")
            if src_origin == "path" and src_path and (home + "/").startswith(src_path.rstrip("/") + "/"):
                # `find ~ -exec cat {} +`, `tar c ~`: a read of the home (or above) takes its secrets too
                src_path = home + "/.ssh"
            for sink in info.sinks:
                self.effects.append(FlowEffect(
                    src_origin, cmd.text, path=src_path, location=src_loc,  # type: ignore[arg-type]
                    variable=src_var, sink=sink,
                ))

    def _data_sources(self, cmd: SimpleCommand, info: Info) -> list[Source]:
        """Where the data a command handles comes from: files it and its feeders read (and
        what those files were written from earlier in the line), the environment, variables."""
        sources: list[Source] = []
        feeders = self._infos_of(list(cmd.pipe_from))
        for word in iter_words(cmd):
            feeders.extend(self._infos_of(word.subs))
            names, subs = self._derived(word.variables)
            feeders.extend(self._infos_of(sorted(subs)))
            sources.extend(("variable", None, None, var) for var in names)
        for red in cmd.redirects:
            if red.op == "<" and red.target is not None:
                eff = path_effect("read", red.target, Ctx(self.state.paths, self.state.catalog, cmd, self._recurse,
                                                          links=self.state.links))
                if eff is not None:
                    sources.append(("path", eff.path, eff.location, None))
            elif red.op in ("<<", "<<<"):
                # `curl -d @- URL <<< "$API_KEY"`: the here-string is what is sent
                feeders.extend(self._infos_of(red.subs))
                names, subs = self._derived(red.variables)
                feeders.extend(self._infos_of(sorted(subs)))
                sources.extend(("variable", None, None, var) for var in names)
        reads = [e for e in info.effects if isinstance(e, PathEffect) and e.op == "read"]
        if "env_dump" in info.tags:
            sources.append(("env", None, None, None))  # `env > /tmp/e`
        for feeder in feeders:
            reads += [e for e in feeder.effects if isinstance(e, PathEffect) and e.op in ("read", "list")]
            if "env_dump" in feeder.tags:
                sources.append(("env", None, None, None))
            sources.extend(("variable", None, None, var) for var in feeder.variables)
        for eff in reads:
            sources.append(("path", eff.path, eff.location, None))
            if eff.path and _ENVIRON.match(eff.path):
                sources.append(("env", None, None, None))
            if eff.path in self.state.origins:
                sources.extend(self.state.origins[eff.path])  # `cat .env > /tmp/x; curl -d @/tmp/x ...`
        for up_id in cmd.pipe_from:
            up = self.by_id.get(up_id)
            if up is not None:
                sources.extend(("variable", None, None, var) for word in iter_words(up) for var in word.variables)
        return sources

    def _record_origins(self, cmd: SimpleCommand, info: Info) -> None:
        """A file written in the line carries where its content came from, for later flows."""
        targets: list[str] = []
        for red in cmd.redirects:
            if red.op in (">", ">>", ">|", "&>", "&>>") and red.target is not None and red.target.value:
                res = resolve(red.target.value, cmd.cwd, self.state.paths, links=self.state.links)
                if res.path and res.location in ("inside", "scratch", "outside"):
                    targets.append(res.path)
        for eff in info.effects:
            if isinstance(eff, ExecEffect) and eff.command in ("cp", "mv", "install", "tee", "dd"):
                targets += [e.path for e in info.effects
                            if isinstance(e, PathEffect) and e.op == "write" and e.path]
        if not targets:
            return
        sources = [src for src in self._data_sources(cmd, info) if src[0] != "path" or src[1] not in targets]
        for path in targets:
            self.state.origins[path] = self.state.origins.get(path, []) + sources


def _find_roots(cmd: SimpleCommand, paths: PathContext) -> Resolved:
    roots: list[Word] = []
    for w in cmd.words[1:]:
        v = w.value
        if v is not None and (v.startswith("-") or v in ("(", "!")):
            break
        roots.append(w)
    if not roots:
        roots = [Word.literal(".")]
    chosen: Resolved | None = None
    for w in roots:
        if w.value is None:
            return Resolved(None, "unknown")
        res = resolve(w.value, cmd.cwd, paths)
        res = Resolved(res.path, res.location, False, res.ancestor, res.in_git)
        if res.location not in ("inside", "scratch") or res.ancestor:
            return res
        chosen = chosen or res
    return chosen or Resolved(paths.workspace, "inside")
