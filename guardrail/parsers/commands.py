"""The command catalogue: what one simple command does, as effects.

The knowledge is data (`guardrail/data/commands.yaml`, extendable from a
policy's `commands:` section); this module interprets it. Commands whose
behaviour data cannot describe (curl's methods, find's expressions, git's
subcommands, wrappers that run other commands) name a handler, a small
function registered in `HANDLERS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from guardrail.effects import CodeEffect, Effect, ExecEffect, NetEffect, PathEffect, PathOp
from guardrail.parsers.paths import PathContext, Resolved, resolve, resolve_prefix
from guardrail.parsers.shell import SimpleCommand, Word

# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Spec:
    """One compiled catalogue entry."""

    name: str
    args: str = "ignore"
    first: str | None = None
    last: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    when: dict[str, dict[str, Any]] = field(default_factory=dict)
    recursive: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    subcommands: dict[str, Spec] = field(default_factory=dict)
    global_options: dict[str, str] = field(default_factory=dict)
    handler: str | None = None
    wrapper_skip: int | None = None
    wrapper_project: bool = False  # the wrapped command is the project's own (uv run, pnpm exec)
    posix: bool = False
    kv: dict[str, str] = field(default_factory=dict)
    code_patterns: tuple[tuple[re.Pattern[str], str], ...] = ()
    first_given_by: frozenset[str] = frozenset()  # options that take the place of `first`
    runs_programs: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)


_SPEC_KEYS = {
    "args", "first", "last", "options", "when", "recursive", "tags", "subcommands",
    "global_options", "handler", "wrapper", "posix", "kv", "code_patterns",
    "pattern_options", "script_options", "runs_programs", "aliases_of", "description",
}  # fmt: skip


def compile_spec(name: str, raw: dict[str, Any]) -> Spec:
    raw = raw or {}
    subs = {k: compile_spec(f"{name} {k}", v or {}) for k, v in (raw.get("subcommands") or {}).items()}
    wrapper = raw.get("wrapper")
    patterns = tuple(
        (re.compile(p["regex"]), str(p.get("code", "runs_programs"))) for p in raw.get("code_patterns") or ()
    )
    return Spec(
        name=name,
        args=raw.get("args", "ignore"),
        first=raw.get("first"),
        last=raw.get("last"),
        options={str(k): str(v) for k, v in (raw.get("options") or {}).items()},
        when={str(k): dict(v) for k, v in (raw.get("when") or {}).items()},
        recursive=frozenset(raw.get("recursive") or ()),
        tags=frozenset(raw.get("tags") or ()),
        subcommands=subs,
        global_options={str(k): str(v) for k, v in (raw.get("global_options") or {}).items()},
        handler=raw.get("handler"),
        wrapper_skip=int(wrapper.get("skip", 0)) if isinstance(wrapper, dict) else None,
        wrapper_project=bool(wrapper.get("project", False)) if isinstance(wrapper, dict) else False,
        posix=bool(raw.get("posix", False)),
        kv={str(k): str(v) for k, v in (raw.get("kv") or {}).items()},
        code_patterns=patterns,
        first_given_by=frozenset((raw.get("pattern_options") or []) + (raw.get("script_options") or [])),
        runs_programs=frozenset(raw.get("runs_programs") or ()),
        extra={k: v for k, v in raw.items() if k not in _SPEC_KEYS},
    )


class Catalog:
    """Name -> Spec, with aliases resolved."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.specs: dict[str, Spec] = {}
        for name, entry in raw.items():
            entry = entry or {}
            target = entry.get("aliases_of")
            if target:
                base = dict(raw.get(target) or {})
                base.update({k: v for k, v in entry.items() if k != "aliases_of"})
                entry = base
            self.specs[str(name)] = compile_spec(str(name), entry)

    def get(self, name: str) -> Spec | None:
        spec = self.specs.get(name)
        if spec is not None:
            return spec
        # python3.12, pip3.11, gcc-12: versioned names
        m = re.fullmatch(r"([A-Za-z][A-Za-z+]*?)[-]?\d+(\.\d+)*", name)
        if m:
            return self.specs.get(m.group(1))
        return None


_BASE_RAW: dict[str, Any] | None = None


def base_catalog_raw() -> dict[str, Any]:
    """The shipped catalogue as plain data."""
    global _BASE_RAW
    if _BASE_RAW is None:
        from pathlib import Path

        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        text = (Path(__file__).parent.parent / "data" / "commands.yaml").read_text("utf-8")
        _BASE_RAW = yaml.load(text, Loader=loader)
    return dict(_BASE_RAW or {})


def build_catalog(extension: dict[str, Any] | None = None) -> Catalog:
    raw = base_catalog_raw()
    for name, entry in (extension or {}).items():
        raw[name] = entry
    return Catalog(raw)


_CATALOG_FORMAT = 1


def load_catalog(extension: dict[str, Any] | None = None) -> Catalog:
    """The catalogue extended by a policy's `commands:`, from a pickle cache when it is current.

    Building it means parsing 500 YAML entries; agent hooks start a process
    per call, so the compiled form is kept under the policy cache directory,
    keyed by the catalogue file, the extension and this module's code.
    """
    import hashlib
    import json
    import pickle
    from pathlib import Path

    from guardrail.policy.loader import _trusted, cache_dir

    here = Path(__file__)
    source = here.parent.parent / "data" / "commands.yaml"
    try:
        digest = hashlib.sha256()
        digest.update(source.read_bytes())
        digest.update(json.dumps(extension or {}, sort_keys=True, default=str).encode())
        for code_file in (here, here.with_name("handlers.py")):
            st = code_file.stat()
            digest.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
        entry = cache_dir() / f"catalog-{_CATALOG_FORMAT}-{digest.hexdigest()[:32]}.pickle"
    except OSError:
        return build_catalog(extension)
    try:
        with open(entry, "rb") as handle:
            if _trusted(handle.fileno()):
                found = pickle.load(handle)
                if isinstance(found, Catalog):
                    return found
    except Exception:  # a missing or corrupt entry is a miss
        pass
    catalog = build_catalog(extension)
    try:
        import os
        import tempfile

        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".catalog-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(catalog, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except Exception:  # an unwritable cache only costs time
        pass
    return catalog


# ---------------------------------------------------------------- analysis state

DOWNLOADED = "\x00downloaded"


@dataclass
class Info:
    """What analysing one simple command found, for the line-level flow analysis."""

    effects: list[Effect] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)  # tags of every command run (wrappers looked through)
    names: list[str] = field(default_factory=list)
    sinks: list[NetEffect] = field(default_factory=list)  # network requests that send data
    sends_stdin: bool = False  # a network tool that sends its standard input
    reads_stdin_program: str | None = None  # "shell" / "interpreter": runs its stdin as code
    stdin_used: bool = True
    literal_output: str | None = None  # echo/printf with literal words
    output_known: bool = False
    downloads: list[str] = field(default_factory=list)  # files written with network data
    scripts_run: list[tuple[str, str]] = field(default_factory=list)  # (path, "shell"|"interpreter")
    code_strings: list[str] = field(default_factory=list)  # literal shell code to parse as a line
    code_vars: dict[str, str | None] = field(default_factory=dict)  # $0 $1 ... of `sh -c CODE a b`
    code_args_subs: list[int] = field(default_factory=list)  # substitutions that become code
    code_vars_used: list[str] = field(default_factory=list)  # variables whose value becomes code
    script_subs: list[tuple[list[int], str]] = field(default_factory=list)  # bash <(...): (subs, kind)
    network_source: bool = False  # its output is data from the network
    variables: list[str] = field(default_factory=list)  # variables its words expand (and their sources)


@dataclass
class Ctx:
    """What handlers need: the workspace, the catalogue and a way to recurse."""

    paths: PathContext
    catalog: Catalog
    cmd: SimpleCommand
    recurse_line: Callable[[str, str | None], list[Effect]]  # parse literal shell code
    depth: int = 0
    stdin_from_find: Resolved | None = None  # xargs/-exec: paths come from `find P`
    stdin_text: str | None = None  # standard input, when it is a literal (echo x | xargs rm)
    links: dict[str, str] = field(default_factory=dict)  # symlinks made earlier in the line
    project_runner: bool = False  # inside `uv run`/`pnpm exec`: an unknown command is the project's

    @property
    def cwd(self) -> str | None:
        return self.cmd.cwd

    def deeper(self) -> Ctx:
        return replace(self, depth=self.depth + 1)


# ---------------------------------------------------------------- argument parsing


@dataclass
class Args:
    flags: list[str] = field(default_factory=list)
    options: list[tuple[str, Word]] = field(default_factory=list)
    positionals: list[Word] = field(default_factory=list)
    rest: list[Word] = field(default_factory=list)  # after a wrapper's command starts


def _long_option_with_unknown_value(w: Word) -> tuple[str, Word] | None:
    """`--opt=...$X...` names `--opt` even though its value is only known at run time."""
    if w.known or not w.parts or w.parts[0] is None:
        return None
    head = w.parts[0]
    if not head.startswith("--") or "=" not in head:
        return None
    name, _, first = head.partition("=")
    rest = ([first] if first else []) + list(w.parts[1:])
    return name, Word(rest, w.raw.partition("=")[2], quoted=w.quoted, subs=list(w.subs),
                      variables=list(w.variables), split=w.split,
                      unquoted_expansion=w.unquoted_expansion)


def parse_args(words: list[Word], options: dict[str, str], *, posix: bool = False,
               stop_after: int | None = None) -> Args:
    """GNU-style parsing: clusters of short flags, --long=value, `--`."""
    out = Args()
    i = 0
    n = len(words)
    while i < n:
        w = words[i]
        v = w.value
        split = _long_option_with_unknown_value(w)
        if split is not None:  # `--pre="$X"`: still the option, with a value we cannot know
            out.flags.append(split[0])
            out.options.append(split)
            i += 1
            continue
        if v is None or (w.quoted and not (v.startswith("-") and len(v) > 1)) or v == "-" or not v.startswith("-"):
            if stop_after is not None and len(out.positionals) >= stop_after:
                out.rest = words[i:]
                return out
            out.positionals.append(w)
            i += 1
            if posix and stop_after is None:
                out.positionals.extend(words[i:])
                return out
            continue
        if v == "--":
            rest = words[i + 1 :]
            if stop_after is not None:
                need = stop_after - len(out.positionals)
                out.positionals.extend(rest[:need])
                out.rest = rest[need:]
            else:
                out.positionals.extend(rest)
            return out
        if v.startswith("--"):
            name, eq, val = v.partition("=")
            role = options.get(name)
            if eq:
                out.flags.append(name)
                out.options.append((name, Word([val], val)))
            elif role is not None and role != "flag":
                out.flags.append(name)
                count = 2 if role.endswith("2") else 1
                for _ in range(count):
                    if i + 1 < n:
                        i += 1
                        out.options.append((name, words[i]))
            else:
                out.flags.append(name)
            i += 1
            continue
        # single dash: a word option (-exec, -name) or a cluster of short flags
        if v in options:
            role = options[v]
            out.flags.append(v)
            if role != "flag":
                count = 2 if role.endswith("2") else 1
                for _ in range(count):
                    if i + 1 < n:
                        i += 1
                        out.options.append((v, words[i]))
            i += 1
            continue
        body = v[1:]
        j = 0
        while j < len(body):
            flag = "-" + body[j]
            role = options.get(flag)
            out.flags.append(flag)
            if role is not None and role != "flag":
                val = body[j + 1 :]
                if val:
                    out.options.append((flag, Word([val], val)))
                elif i + 1 < n:
                    i += 1
                    out.options.append((flag, words[i]))
                break
            j += 1
        i += 1
    return out


# ---------------------------------------------------------------- effects helpers

PATH_ROLES = {"read": "read", "list": "list", "write": "write", "delete": "delete", "project": "exec",
              "exec": "exec", "chmod": "chmod", "chown": "chown", "write_target": "write",
              "read2": "read", "script_file": "read", "write_basename": "write"}  # fmt: skip


def path_effect(op: str, word: Word, ctx: Ctx, *, recursive: bool = False,
                follow_last: bool = True, **extra: Any) -> PathEffect | None:
    return _path_effect(cast(PathOp, op), word, ctx, recursive=recursive, follow_last=follow_last, **extra)


def _path_effect(op: PathOp, word: Word, ctx: Ctx, *, recursive: bool,
                 follow_last: bool, **extra: Any) -> PathEffect | None:
    """A path argument -> its effect; None for `-` (standard input/output)."""
    value = word.value
    if value == "-" or value == "":
        return None
    if word.process_sub:
        return None  # <(cmd): data from a command, analysed as that command
    source = ctx.cmd.text
    if value is not None:
        if op == "delete" and not value.endswith(("/", "/.")):
            follow_last = False  # rm of a symlink removes the link; `link/` means its target
        res = resolve(value, ctx.cwd, ctx.paths, follow_last=follow_last, links=ctx.links)
        return PathEffect(op, res.path, res.location, source, value, recursive, res.whole,
                          res.ancestor, res.in_git, **extra)
    if ctx.stdin_from_find is not None and not word.prefix:
        res = ctx.stdin_from_find
        return PathEffect(op, res.path, res.location, source, word.raw, recursive, False,
                          res.ancestor, res.in_git, **extra)
    res = resolve_prefix(word.prefix, ctx.cwd, ctx.paths, ctx.links)
    return PathEffect(op, res.path, res.location, source, word.raw, recursive, False,
                      res.ancestor, res.in_git, **extra)


MAX_GLOB_MATCHES = 64


def add_path(info: Info, op: str, word: Word, ctx: Ctx, **kw: Any) -> PathEffect | None:
    eff = path_effect(op, word, ctx, **kw)
    if eff is not None:
        info.effects.append(eff)
        if word.glob and word.value is not None:
            # `cat .e*`, `rm -rf .g*`: what the shell would expand it to, as far as it exists now
            for match in expand_glob(word.value, ctx.cwd):
                found = path_effect(op, Word.literal(match), ctx, **kw)
                if found is not None:
                    info.effects.append(found)
    return eff


def expand_glob(pattern: str, cwd: str | None) -> list[str]:
    """The existing paths a shell glob matches (bounded), relative ones against `cwd`."""
    import glob
    import itertools

    if cwd is None and not pattern.startswith("/"):
        return []
    try:
        found = glob.iglob(pattern, root_dir=None if pattern.startswith("/") else cwd)
        return list(itertools.islice(found, MAX_GLOB_MATCHES))
    except (OSError, ValueError, re.error):
        return []


def exec_effect(name: str, words: list[Word], ctx: Ctx, spec: Spec | None, *,
                subcommand: str | None = None, flags: Iterable[str] = (),
                program: str | None = None, tags: Iterable[str] = ()) -> ExecEffect:
    argv = tuple(w.value if w.value is not None else w.raw for w in words)
    all_tags = frozenset(tags) | (spec.tags if spec else frozenset())
    return ExecEffect(
        command=name, argv=argv, source=ctx.cmd.text, subcommand=subcommand,
        flags=frozenset(flags), tags=all_tags, program=program,  # type: ignore[arg-type]
    )


def code(info: Info, kind: str, detail: str, ctx: Ctx) -> None:
    info.effects.append(CodeEffect(kind, detail, ctx.cmd.text))  # type: ignore[arg-type]


# Environment variables whose value is a command that programs run, and those that load code.
CODE_ENV_VARS = frozenset({
    "GIT_SSH_COMMAND", "GIT_SSH", "GIT_PROXY_COMMAND", "GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR", "GIT_ASKPASS", "SSH_ASKPASS", "PAGER", "MANPAGER", "EDITOR", "VISUAL",
    "BROWSER", "LESSOPEN", "LESSCLOSE", "PROMPT_COMMAND", "SUDO_ASKPASS", "DIFF", "MAKE",
})  # fmt: skip
LOADER_ENV_VARS = frozenset({
    "LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "DYLD_LIBRARY_PATH",
    "BASH_ENV", "ENV", "PYTHONSTARTUP", "PERL5OPT", "PERL5LIB", "RUBYOPT", "NODE_OPTIONS",
    "PYTHONINSPECT", "GCONV_PATH", "GIT_EXEC_PATH", "GIT_CONFIG_GLOBAL", "GIT_CONFIG",
    "GIT_CONFIG_COUNT", "GIT_DIR", "GIT_TEMPLATE_DIR", "GIT_SSH_COMMAND", "GIT_SSH",
})  # fmt: skip
# variables naming where a program writes (git checks out into GIT_WORK_TREE)
WRITE_ENV_VARS = frozenset({"GIT_WORK_TREE", "GIT_DIR", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"})
# NODE_OPTIONS that only tune the runtime (anything else may load code: --require, --import)
NODE_TUNING = re.compile(
    r"--(max-old-space-size|max-semi-space-size|stack-size|max-http-header-size)=\d+"
    r"|--(enable-source-maps|no-warnings|no-deprecation|trace-warnings|trace-deprecation"
    r"|openssl-legacy-provider|use-openssl-ca|preserve-symlinks|no-experimental-fetch)"
    r"|--unhandled-rejections=\w+|--dns-result-order=[\w-]+"
)


PROXY_ENV_VARS = frozenset({"http_proxy", "https_proxy", "all_proxy", "ftp_proxy"})


def env_assignment(name: str, value: Word, ctx: Ctx, info: Info) -> None:
    """`GIT_SSH_COMMAND=... git fetch`: some variables make the next program run code;
    `HTTPS_PROXY=...` makes it connect somewhere else."""
    if name.lower() in PROXY_ENV_VARS:
        if value.value is None:
            info.effects.append(NetEffect("http", None, "invalid", ctx.cmd.text, url=value.raw))
        elif value.value:
            _url_effect(value, "CONNECT", ctx, info)
        return
    if name in CODE_ENV_VARS:
        if value.value is None:
            code(info, "dynamic", f"{name} is set to a command not known before it runs", ctx)
            info.code_args_subs.extend(value.subs)
        elif value.value.strip():
            info.code_strings.append(value.value)
    if name in WRITE_ENV_VARS:
        add_path(info, "write", value, ctx)
    if name == "NODE_OPTIONS" and value.value is not None and all(
            NODE_TUNING.fullmatch(t) for t in value.value.split()):
        return
    if name in LOADER_ENV_VARS or name.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")):
        code(info, "runs_programs", f"{name} makes programs load other code", ctx)


def normalise_name(value: str) -> str:
    """`/bin/rm` -> `rm`; quotes and backslashes are already gone."""
    return value.rsplit("/", 1)[-1] if "/" in value else value


# ---------------------------------------------------------------- entry point


def analyse_words(words: list[Word], ctx: Ctx, info: Info) -> None:
    """Effects of running `words` (a command and its arguments)."""
    if not words:
        return
    if ctx.depth > 24:
        code(info, "too_complex", "wrappers nested too deeply", ctx)
        return
    head = words[0]
    if head.value is None:
        code(info, "dynamic", f"command name {head.raw!r} is not known before it runs", ctx)
        info.code_args_subs.extend(head.subs)
        info.code_vars_used.extend(head.variables)
        info.tags.add("dynamic")
        return
    value = head.value
    if value == "":
        code(info, "dynamic", "empty command name", ctx)
        return
    if "/" in value:
        res = resolve(value, ctx.cwd, ctx.paths, links=ctx.links)
        if res.location in ("inside", "scratch"):
            # a program of the project's own: run, not looked up in the catalogue
            name = normalise_name(value)
            info.names.append(name)
            info.effects.append(exec_effect(name, words, ctx, None, program=res.location))
            info.effects.append(PathEffect("exec", res.path, res.location, ctx.cmd.text, value))
            if res.path:
                info.scripts_run.append((res.path, "program"))
            if ctx.catalog.get(name) is None:
                return
            # `.venv/bin/pip install`: a command named by path is that command too
    name = normalise_name(value)
    spec = ctx.catalog.get(name)
    if not info.names or info.names[-1] != name:
        info.names.append(name)
    if spec is None:
        program = "inside" if ctx.project_runner and "/" not in value else None
        info.effects.append(exec_effect(name, words, ctx, None, program=program))
        return
    info.tags.update(spec.tags)
    handler = HANDLERS.get(spec.handler or "")
    if handler is not None:
        handler(name, words, spec, ctx, info)
    else:
        generic(name, words, spec, ctx, info)


def generic(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info,
            *, subcommand: str | None = None, extra_flags: Iterable[str] = (),
            start: int = 1) -> None:
    """Data-driven analysis of one command by its catalogue entry.

    `words` is the whole command line (for the exec effect); its arguments
    begin at `start` (after a subcommand, when there is one).
    """
    args_words = words[start:]
    if spec.subcommands and subcommand is None:
        parsed = parse_args(args_words, spec.global_options, posix=True)
        head = parsed.positionals[0] if parsed.positionals else None
        if head is not None and head.value is not None:
            sub = spec.subcommands.get(head.value) or spec.subcommands.get("*")
            if sub is not None:
                _options_effects(parsed, spec.global_options, ctx, info)
                idx = start + args_words.index(head)
                merged = Spec(**{**sub.__dict__, "tags": sub.tags | spec.tags})
                generic(name, words, merged, ctx, info, subcommand=head.value,
                        extra_flags=parsed.flags, start=idx + 1)
                return
    wrapper_skip = spec.wrapper_skip
    options = spec.options
    parsed = parse_args(args_words, options, posix=spec.posix or wrapper_skip is not None,
                        stop_after=wrapper_skip)
    flags = set(parsed.flags) | set(extra_flags)
    over: dict[str, Any] = {}
    for flag in parsed.flags:
        if flag in spec.when:
            over.update(spec.when[flag])
        elif flag.startswith("-i") and not flag.startswith("--") and "-i" in spec.when:
            over.update(spec.when["-i"])  # sed -i.bak
    tags = set(over.get("tags") or ())
    info.tags.update(tags)
    info.effects.append(exec_effect(name, words, ctx, spec, subcommand=subcommand,
                                    flags=flags, tags=tags))
    if "project_runner" in spec.tags:
        # a build or test runner runs the code of the directory it runs in
        add_path(info, "exec", Word.literal("."), ctx)
    if spec.runs_programs & flags:
        used = " ".join(sorted(spec.runs_programs & flags))
        code(info, "runs_programs", f"{name} {used} runs another program", ctx)
    _options_effects(parsed, options, ctx, info, recursive=bool(spec.recursive & flags))
    if wrapper_skip is not None and not over.get("wrapper_off"):
        if parsed.rest:
            inner = replace(ctx, depth=ctx.depth + 1, project_runner=spec.wrapper_project)
            analyse_words(parsed.rest, inner, info)
        return
    positionals = list(parsed.positionals)
    _kv_effects(positionals, spec, ctx, info)
    _positional_effects(positionals, spec, over, flags, ctx, info)


def _options_effects(parsed: Args, options: dict[str, str], ctx: Ctx, info: Info,
                     recursive: bool = False) -> None:
    for opt, word in parsed.options:
        role = options.get(opt, "value")
        _role_effect(role, word, ctx, info, recursive=recursive, opt=opt)


def _role_effect(role: str, word: Word, ctx: Ctx, info: Info, *, recursive: bool = False,
                 opt: str = "") -> None:
    op = PATH_ROLES.get(role)
    if op is not None:
        add_path(info, op, word, ctx, recursive=recursive if op in ("delete", "chmod", "chown") else False)
        return
    if role == "code":
        code(info, "runs_programs", f"{opt or 'argument'} {word.raw!r} runs code", ctx)
        if word.value:
            info.code_strings.append(word.value)  # and what it runs is read as a line of its own
    elif role == "command":
        if word.value is None:
            code(info, "dynamic", f"command {word.raw!r} is not known before it runs", ctx)
        else:
            info.code_strings.append(word.value)
    elif role == "command_string":
        if word.value is None:
            code(info, "dynamic", f"command {word.raw!r} is not known before it runs", ctx)
            info.code_args_subs.extend(word.subs)
        else:
            info.code_strings.append(word.value)
    elif role == "url":
        _url_effect(word, "GET", ctx, info)
    elif role == "mode" and word.value and _is_setuid_mode(word.value):
            info.effects.append(PathEffect("chmod", None, "unknown", ctx.cmd.text, word.raw, setuid=True, mode=word.value))


def _kv_effects(positionals: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    if not spec.kv:
        return
    for w in list(positionals):
        v = w.value if w.value is not None else w.prefix
        key, eq, val = v.partition("=")
        if eq and key in spec.kv:
            parts = list(w.parts)
            # drop the `key=` prefix from the word
            first = (parts[0] or "")[len(key) + 1 :] if parts and parts[0] is not None else None
            new = Word([first, *parts[1:]], w.raw) if parts else Word.literal(val)
            add_path(info, spec.kv[key], new, ctx)
            positionals.remove(w)


def _positional_effects(positionals: list[Word], spec: Spec, over: dict[str, Any],
                        flags: set[str], ctx: Ctx, info: Info) -> None:
    args_role = over.get("args", spec.args)
    first_role = over.get("first", spec.first)
    last_role = over.get("last", spec.last)
    if first_role in ("pattern", "script") and (flags & spec.first_given_by):
        first_role = None
    recursive = bool(spec.recursive & flags)
    if not positionals:
        default = spec.extra.get("default")
        if default is not None:
            _role_effect(args_role, Word.literal(str(default)), ctx, info)
        return
    items = list(positionals)
    if first_role is not None:
        head = items.pop(0)
        if first_role == "script":
            _check_code_patterns(head, spec, ctx, info)
        else:
            _role_effect(first_role, head, ctx, info)
    last: Word | None = None
    if last_role is not None and items and (first_role is not None or len(items) >= 2):
        last = items.pop()
    if last_role is not None and first_role is None and len(positionals) == 1 and spec.extra.get("single_positional"):
        # `ln -s target` makes ./basename(target)
        word = positionals[0]
        base = (word.value or "").rstrip("/").rsplit("/", 1)[-1]
        if base:
            add_path(info, "write", Word.literal(base), ctx)
        return
    for w in items:
        _role_effect(str(args_role), w, ctx, info, recursive=recursive)
    if last is not None:
        _role_effect(str(last_role), last, ctx, info, recursive=recursive)


def _check_code_patterns(script: Word, spec: Spec, ctx: Ctx, info: Info) -> None:
    if script.value is None:
        if spec.code_patterns:
            code(info, "dynamic", f"{spec.name} program {script.raw!r} is not known before it runs", ctx)
        return
    for pattern, kind in spec.code_patterns:
        if pattern.search(script.value):
            if kind == "writes_file":
                code(info, "runs_programs", f"{spec.name} program writes files: {script.value[:60]!r}", ctx)
            else:
                code(info, "runs_programs", f"{spec.name} program runs commands: {script.value[:60]!r}", ctx)
            return


_SETUID_SYMBOLIC = re.compile(r"^[ugoa]*([+=-][rwxXstugo]*)*[+=][rwxXtugo]*s")
_OCTAL_WITH_OP = re.compile(r"^[ugoa]*[+=]?0*([0-7]{1,5})$")


def _is_setuid_mode(mode: str) -> bool:
    """Whether a chmod mode sets the setuid or setgid bit: 4755, 02755, =4755, +4000, u+s, g=s, +s,
    u=rwxs, a+rwx,u+s (GNU chmod accepts an operator before octal digits)."""
    for part in mode.split(","):
        octal = _OCTAL_WITH_OP.match(part)
        if octal:
            if int(octal.group(1), 8) & 0o6000:
                return True
            continue
        if _SETUID_SYMBOLIC.match(part):
            return True
    return False


# ---------------------------------------------------------------- network helpers


def _url_effect(word: Word, method: str, ctx: Ctx, info: Info, *, headers: tuple[str, ...] = (),
                body: str | None = None, sends: bool = False) -> NetEffect:
    from guardrail.parsers.url import http_effect

    url = word.value if word.value is not None else url_with_known_host(word)
    if url is None:
        eff = NetEffect("http", None, "invalid", ctx.cmd.text, url=word.raw, method=method,
                        headers=headers, body=body)
    else:
        eff = http_effect(url, method, headers=headers, body=body, source=ctx.cmd.text)
    info.effects.append(eff)
    info.sinks.append(eff)  # even a GET carries its URL and headers
    return eff


_UNKNOWN = "\x01"


def url_with_known_host(word: Word) -> str | None:
    """A URL whose unknown parts lie only in the user info, path or query
    (`https://$TOKEN@evil.com/$X`): with those parts as placeholders, so its host can be
    judged; None when the host itself is not known."""
    text = "".join(_UNKNOWN if p is None else p for p in word.parts)
    scheme, sep, rest = text.partition("://")
    if not sep or _UNKNOWN in scheme:
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    hostport = authority.rsplit("@", 1)[-1]
    if _UNKNOWN in hostport:
        return None
    return text.replace(_UNKNOWN, "x")


def host_effect(protocol: str, host_word: Word | None, ctx: Ctx, info: Info,
                port: int | None = None) -> NetEffect:
    from guardrail.parsers.url import classify_address, normalize_host

    if host_word is None or host_word.value is None:
        eff = NetEffect(protocol, None, "invalid", ctx.cmd.text, port=port)
    else:
        raw = host_word.value
        if "@" in raw:
            raw = raw.rsplit("@", 1)[1]
        host = normalize_host(raw)
        eff = NetEffect(protocol, host, classify_address(host), ctx.cmd.text, port=port)
    info.effects.append(eff)
    info.sinks.append(eff)
    return eff


HandlerFn = Callable[[str, list[Word], Spec, Ctx, Info], None]
HANDLERS: dict[str, HandlerFn] = {}


def handler(name: str) -> Callable[[HandlerFn], HandlerFn]:
    def register(fn: HandlerFn) -> HandlerFn:
        HANDLERS[name] = fn
        return fn

    return register


# Importing the handlers registers them.
from guardrail.parsers import handlers as _handlers  # noqa: E402,F401
