"""Handlers: the commands whose behaviour the catalogue's data cannot say.

Each handler reads one command's words and adds its effects to an `Info`.
They are registered by name with `@handler("name")`; a catalogue entry
selects one with `handler: name`. Keep them about one command each, and put
every option list that can be data in `commands.yaml` instead.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import replace

from guardrail.effects import DbEffect, ExecEffect, NetEffect, PathEffect
from guardrail.parsers.commands import (
    DOWNLOADED,
    Ctx,
    Info,
    Spec,
    _is_setuid_mode,
    _url_effect,
    add_path,
    analyse_words,
    code,
    env_assignment,
    exec_effect,
    handler,
    host_effect,
    parse_args,
    path_effect,
    url_with_known_host,
)
from guardrail.parsers.paths import Resolved, resolve
from guardrail.parsers.scripts import ScriptEffects, awk_effects, sed_effects
from guardrail.parsers.shell import Word, brace_expand

# ---------------------------------------------------------------- shells and code


_SHELL_VALUE_OPTS = {"-o": "value", "+o": "value", "-O": "value", "+O": "value",
                     "--rcfile": "read", "--init-file": "read"}  # fmt: skip


@handler("shell")
def shell(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    """sh/bash/zsh: `-c STRING` is code to read; a file is a script; none reads stdin."""
    has_c = False
    i = 1
    flags: set[str] = set()
    while i < len(words):
        v = words[i].value
        if v is None or not v.startswith(("-", "+")) or v in ("-", "--"):
            if v in ("-", "--"):
                i += 1
            break
        if v in _SHELL_VALUE_OPTS:
            i += 2
            flags.add(v)
            continue
        if v.startswith("--"):
            flags.add(v)
        else:
            for ch in v[1:]:
                flags.add("-" + ch)
                if ch == "c":
                    has_c = True
        i += 1
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    rest = words[i:]
    if has_c:
        if not rest:
            code(info, "unparsed", f"{name} -c without a command", ctx)
            return
        script = rest[0]
        if script.raw == "<stdin>":
            info.reads_stdin_program = "shell"  # `... | xargs sh -c`: the program comes from stdin
            return
        if script.value is None:
            code(info, "dynamic", f"{name} -c of a string not known before it runs: {script.raw[:80]}", ctx)
            info.code_args_subs.extend(script.subs)
            info.code_vars_used.extend(script.variables)
        else:
            info.code_strings.append(script.value)
            # `sh -c 'rm -rf "$1"' _ /`: the words after the code are $0, $1, ...
            for index, word in enumerate(rest[1:10]):
                info.code_vars[str(index)] = word.value
        return
    if rest and "-s" not in flags:
        _run_script(rest[0], "shell", ctx, info)
        return
    info.reads_stdin_program = "shell"


_STDIN_PATHS = frozenset({"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})


def _run_script(word: Word, kind: str, ctx: Ctx, info: Info) -> None:
    """A script file run by a shell or an interpreter."""
    if word.process_sub:
        info.code_args_subs.extend(word.subs)
        if word.process_sub == "<":
            info.script_subs.append((list(word.subs), kind))
        return
    if word.value in _STDIN_PATHS:
        info.reads_stdin_program = kind  # `bash /dev/stdin`, `source /dev/stdin`
        return
    if word.value is None:
        info.code_vars_used.extend(word.variables)
    eff = path_effect("exec", word, ctx)
    if eff is None:
        info.reads_stdin_program = kind
        return
    info.effects.append(eff)
    if eff.path:
        info.scripts_run.append((eff.path, kind))
    if word.value is None:
        info.code_args_subs.extend(word.subs)


@handler("eval")
def eval_(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    info.effects.append(exec_effect(name, words, ctx, spec))
    body = words[1:]
    if not body:
        return
    if all(w.value is not None for w in body):
        info.code_strings.append(" ".join(w.value or "" for w in body))
        return
    code(info, "dynamic", f"eval of text not known before it runs: {' '.join(w.raw for w in body)[:80]}", ctx)
    for w in body:
        info.code_args_subs.extend(w.subs)
        info.code_vars_used.extend(w.variables)


@handler("source")
def source(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    info.effects.append(exec_effect(name, words, ctx, spec))
    if len(words) < 2:
        code(info, "unparsed", f"{name} without a file", ctx)
        return
    _run_script(words[1], "shell", ctx, info)


@handler("exec")
def exec_(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {"-a": "value"}, posix=True)
    if not parsed.positionals:
        info.effects.append(exec_effect(name, words, ctx, spec))
        return
    analyse_words(parsed.positionals, ctx.deeper(), info)


@handler("command_builtin")
def command_builtin(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {}, posix=True)
    if {"-v", "-V"} & set(parsed.flags) or not parsed.positionals:
        info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
        return
    analyse_words(parsed.positionals, ctx.deeper(), info)


_INFO_FLAGS = frozenset({"-V", "--version", "-v", "-h", "--help", "-version", "--help-all",
                         "--test"})  # node --test: runs the project's test files, reads no program


@handler("interpreter")
def interpreter(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    """python/node/perl/...: inline code is opaque, `-m` runs a module, else a script.

    Flag clusters are read one letter at a time (`python -Sc CODE`, `perl -lne CODE`):
    a letter that takes a value takes the rest of the cluster, or the next word.
    """
    inline = set(spec.extra.get("inline") or ())
    module = set(spec.extra.get("module") or ())
    valued = set(spec.extra.get("value_options") or ())
    inplace = set(spec.extra.get("inplace") or ())
    flags: set[str] = set()
    i = 1
    while i < len(words):
        v = words[i].value
        if v is None or not v.startswith("-") or v == "-":
            break
        if v == "--":
            i += 1
            break
        if v.startswith("--"):
            key, eq, val = v.partition("=")
            flags.add(key)
            if key in inline:
                body = Word([val], val) if eq else (words[i + 1] if i + 1 < len(words) else Word.literal(""))
                return _inline_code(name, words, body, spec, ctx, info, flags, words[i + (1 if eq else 2):], inplace)
            if key in module:
                mod = Word([val], val) if eq else (words[i + 1] if i + 1 < len(words) else Word.literal(""))
                return _run_module(name, words, mod, words[i + (1 if eq else 2):], spec, ctx, info, flags)
            value_word = Word([val], val) if eq else (words[i + 1] if i + 1 < len(words) else None)
            if value_word is not None:
                _interpreter_option(key, value_word, spec, ctx, info)
            i += 2 if (key in valued and not eq) else 1
            continue
        if v in valued:  # word options such as -ex or -cmd, and -r MODULE
            flags.add(v)
            if i + 1 < len(words):
                _interpreter_option(v, words[i + 1], spec, ctx, info)
            i += 2
            continue
        consumed_next = False
        for pos in range(1, len(v)):
            flag = "-" + v[pos]
            flags.add(flag)
            rest_of_cluster = v[pos + 1 :]
            if flag in inline or flag in module:
                if rest_of_cluster:
                    value, after = Word([rest_of_cluster], rest_of_cluster), i + 1
                else:
                    value = words[i + 1] if i + 1 < len(words) else Word.literal("")
                    after = i + 2
                if flag in inline:
                    return _inline_code(name, words, value, spec, ctx, info, flags, words[after:], inplace)
                return _run_module(name, words, value, words[after:], spec, ctx, info, flags)
            if flag in valued:
                consumed_next = not rest_of_cluster
                break
            if flag in inplace:
                break  # perl -i.bak: the rest is the backup suffix
        i += 2 if consumed_next else 1
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    rest = words[i:]
    if not rest and flags & _INFO_FLAGS:
        return  # `python --version`: prints and exits, reads no program
    if not rest or rest[0].value == "-":
        info.reads_stdin_program = "interpreter"
        return
    _run_script(rest[0], "interpreter", ctx, info)


def _interpreter_option(opt: str, value: Word, spec: Spec, ctx: Ctx, info: Info) -> None:
    """Options that read a file (node --env-file) or load code (node --import data:...)."""
    if opt in (spec.extra.get("read_options") or ()):
        add_path(info, "read", value, ctx)
    elif opt in (spec.extra.get("code_options") or ()):
        v = value.value
        if v is None or re.match(r"(?i)(data|https?|file):", v):
            code(info, "dynamic", f"{opt} loads code that is not a module of the project: {value.raw[:60]}", ctx)
        elif v.startswith(("/", "~", ".")):
            add_path(info, "exec", value, ctx)


def _inline_code(name: str, words: list[Word], body: Word, spec: Spec, ctx: Ctx, info: Info,
                 flags: set[str], rest: list[Word], inplace: set[str]) -> None:
    """`python -c CODE args`, `perl -ne CODE files`: opaque code; its files are read
    (written with perl/ruby `-i`)."""
    info.tags.add("inline_code")
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags, tags={"inline_code"}))
    text = body.value if body.value is not None else body.raw
    code(info, "dynamic", f"inline {name} code: {text[:80]!r}", ctx)
    info.code_args_subs.extend(body.subs)
    if inplace and flags & inplace:
        for w in rest:
            if w.value is None or not w.value.startswith("-"):
                add_path(info, "write", w, ctx)


def _run_module(name: str, words: list[Word], mod: Word, rest: list[Word], spec: Spec,
                ctx: Ctx, info: Info, flags: set[str]) -> None:
    """`python -m pip install x` is `pip install x`; other modules run as the project's code."""
    flags = flags | {"-m"}
    if mod.value is None:
        code(info, "dynamic", f"{name} -m of a module not known before it runs", ctx)
        return
    target = ctx.catalog.get(mod.value.split(".")[0])
    if target is not None and mod.value in ctx.catalog.specs:
        analyse_words([Word.literal(mod.value), *rest], ctx.deeper(), info)
        return
    info.effects.append(exec_effect(name, words, ctx, spec, subcommand=None, flags=flags))
    for w in rest:
        if w.value is None or w.value.startswith("-"):
            continue
        if mod.value == "venv":
            add_path(info, "write", w, ctx)
        elif "/" in w.value or w.value.startswith((".", "~")) or os.path.exists(
                os.path.join(ctx.cwd or ctx.paths.workspace, w.value)):
            # `python -m json.tool ~/.aws/credentials`: a path given to a module is read by it
            add_path(info, "read", w, ctx)


@handler("deno")
def deno(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    sub = words[1].value if len(words) > 1 else None
    info.effects.append(exec_effect(name, words, ctx, spec, subcommand=sub))
    if sub == "eval":
        code(info, "dynamic", "deno eval of inline code", ctx)
    elif sub == "run":
        script = next((w for w in words[2:] if w.value is None or not w.value.startswith("-")), None)
        if script is not None and script.value and re.match(r"(?i)https?://", script.value):
            _url_effect(script, "GET", ctx, info)
            code(info, "remote_code", f"deno runs code from {script.value}", ctx)
        elif script is not None:
            _run_script(script, "interpreter", ctx, info)


@handler("bun")
def bun(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    sub = words[1].value if len(words) > 1 else None
    if sub in ("-e", "--eval", "-p", "--print"):
        info.effects.append(exec_effect(name, words, ctx, spec, flags={sub}))
        code(info, "dynamic", "bun inline code", ctx)
        return
    info.effects.append(exec_effect(name, words, ctx, spec, subcommand=sub))
    if sub is not None and sub not in ("run", "test", "install", "i", "add", "x", "build", "remove", "update", "init", "create", "pm", "link", "upgrade") and not sub.startswith("-"):
        _run_script(words[1], "interpreter", ctx, info)


@handler("busybox")
def busybox(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    if len(words) < 2:
        info.effects.append(exec_effect(name, words, ctx, spec))
        return
    analyse_words(words[1:], ctx.deeper(), info)


@handler("watch")
def watch(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], spec.options, posix=True)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    if not parsed.positionals:
        return
    if "-x" in parsed.flags or "--exec" in parsed.flags:
        analyse_words(parsed.positionals, ctx.deeper(), info)
        return
    if all(w.value is not None for w in parsed.positionals):
        info.code_strings.append(" ".join(w.value or "" for w in parsed.positionals))
    else:
        code(info, "dynamic", "watch of a command not known before it runs", ctx)



@handler("trap")
def trap(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    info.effects.append(exec_effect(name, words, ctx, spec))
    args = [w for w in words[1:] if w.value is None or not w.value.startswith("-")]
    if len(args) >= 2:
        body = args[0]
        if body.value is None:
            code(info, "dynamic", "trap of a command not known before it runs", ctx)
        elif body.value:
            info.code_strings.append(body.value)


@handler("alias")
def alias(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    info.effects.append(exec_effect(name, words, ctx, spec))
    for w in words[1:]:
        if w.value is None:
            code(info, "dynamic", "alias of a value not known before it runs", ctx)
            continue
        _, eq, value = w.value.partition("=")
        if eq and value:
            info.code_strings.append(value)


# ---------------------------------------------------------------- environment


@handler("env")
def env(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    """`env` alone dumps the environment; `env X=1 cmd` runs cmd."""
    i = 1
    flags: set[str] = set()
    split_string: Word | None = None
    while i < len(words):
        v = words[i].value
        if v is None:
            break
        if v == "--":
            i += 1
            break
        if v in ("-C", "--chdir") or v.startswith("--chdir="):
            # `env -C / rm -rf etc`: the command runs elsewhere
            target = v.split("=", 1)[1] if "=" in v else (words[i + 1].value if i + 1 < len(words) else None)
            flags.add(v.split("=")[0])
            i += 1 if "=" in v else 2
            ctx = _with_cwd(ctx, target)
            continue
        if v in ("-u", "--unset"):
            flags.add(v)
            i += 2
            continue
        if v in ("-S", "--split-string"):
            flags.add(v)
            split_string = words[i + 1] if i + 1 < len(words) else None
            i += 2
            break
        if v.startswith("-S") and len(v) > 2:
            split_string = Word([v[2:]], v[2:])
            i += 1
            break
        if v.startswith("-") and v != "-":
            flags.add(v)
            i += 1
            continue
        if "=" in v and not v.startswith("="):
            key, _, val = v.partition("=")
            env_assignment(key, Word([val], v), ctx, info)
            i += 1
            continue
        break
    rest = words[i:]
    if split_string is not None:
        info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
        if split_string.value is None:
            code(info, "dynamic", "env -S of a string not known before it runs", ctx)
        else:
            text = split_string.value + " " + " ".join(w.value or "?" for w in rest)
            info.code_strings.append(text)
        return
    if not rest:
        info.effects.append(exec_effect(name, words, ctx, spec, flags=flags, tags={"env_dump"}))
        info.tags.add("env_dump")
        return
    analyse_words(rest, ctx.deeper(), info)


def _with_cwd(ctx: Ctx, target: str | None) -> Ctx:
    """The context for a command run in directory `target` (None: unknown)."""
    from guardrail.parsers.paths import normalise

    cwd: str | None = None
    if target is not None and (ctx.cwd is not None or target.startswith(("/", "~"))):
        cwd = normalise(target, ctx.cwd or ctx.paths.workspace, ctx.paths.home)
    shadow = type(ctx.cmd)(**{**ctx.cmd.__dict__, "cwd": cwd})
    return replace(ctx, cmd=shadow)


@handler("set")
def set_(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    tags = {"env_dump"} if len(words) == 1 else set()
    info.tags.update(tags)
    info.effects.append(exec_effect(name, words, ctx, spec, tags=tags))


@handler("declare")
def declare(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    args = words[1:]
    flags = {w.value for w in args if w.value and w.value.startswith("-")}
    names = [w for w in args if not (w.value or "").startswith("-")]
    dump = not names and (not flags or flags & {"-p", "-x", "-f", "-F"} == flags or "-p" in flags)
    tags = {"env_dump"} if dump else set()
    info.tags.update(tags)
    info.effects.append(exec_effect(name, words, ctx, spec, flags={f for f in flags if f}, tags=tags))


@handler("hostname")
def hostname(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {"-F": "read", "--file": "read"})
    tags = {"system_change"} if parsed.positionals or parsed.options else set()
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags, tags=tags))


@handler("sysctl")
def sysctl(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {"-p": "read", "--load": "read"})
    writes = any(f in ("-w", "--write", "-p", "--load", "--system") for f in parsed.flags) or any(
        "=" in (w.value or "=") for w in parsed.positionals
    )
    tags = {"system_change"} if writes else set()
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags, tags=tags))


@handler("crontab")
def crontab(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {"-u": "value"})
    listing = "-l" in parsed.flags and not parsed.positionals
    tags = set() if listing else {"system_change"}
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags, tags=tags))


@handler("mktemp")
def mktemp(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], spec.options)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    tmpdir = next((w for o, w in parsed.options if o in ("-p", "--tmpdir")), None)
    template = parsed.positionals[0] if parsed.positionals else None
    if template is None:
        base = tmpdir.value if tmpdir is not None and tmpdir.value else "/tmp"
        add_path(info, "write", Word.literal(posixpath.join(base, "tmp.XXXXXXXXXX")), ctx)
        return
    if tmpdir is not None or "-t" in parsed.flags:
        base = tmpdir.value if tmpdir is not None and tmpdir.value else "/tmp"
        add_path(info, "write", Word.literal(posixpath.join(base, template.value or "x")), ctx)
        return
    add_path(info, "write", template, ctx)


# ---------------------------------------------------------------- permissions


@handler("chmod")
def chmod(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    args = [w for w in words[1:]]
    if any(w.value == "--" for w in args):  # `chmod -- u+s x`: everything after `--` is mode and files
        cut = next(i for i, w in enumerate(args) if w.value == "--")
        head, tail = args[:cut], args[cut + 1 :]
    else:
        head, tail = args, []
    flags = [w.value for w in head if w.value and re.fullmatch(r"-[RvcfH-LP]+|--\w[\w-]*(=.*)?", w.value) and not _looks_mode(w.value)]
    rest = [w for w in head if not (w.value and w.value in flags)] + tail
    reference = any((f or "").startswith("--reference") for f in flags)
    if reference:
        # the mode comes from another file: it may carry setuid (`--reference=/usr/bin/sudo`)
        code(info, "dynamic", "chmod --reference copies a mode not known before it runs", ctx)
    recursive = any(f in ("-R", "--recursive") or (f and not f.startswith("--") and "R" in f) for f in flags)
    info.effects.append(exec_effect(name, words, ctx, spec, flags={f for f in flags if f}))
    if not rest:
        return
    mode_word = None if reference else rest.pop(0)
    mode = mode_word.value if mode_word is not None else None
    setuid = bool(mode and _is_setuid_mode(mode))
    if mode_word is not None and mode is None:
        setuid = False
    for w in rest:
        add_path(info, "chmod", w, ctx, recursive=recursive, mode=mode, setuid=setuid)


def _looks_mode(v: str) -> bool:
    return bool(re.fullmatch(r"-[rwxXstugo]+(,.*)?", v)) and not re.fullmatch(r"-[RvcfHLP]+", v)


def _is_root(name: str) -> bool:
    """root by name or uid/gid 0 however written (`0`, `00`, `+0`)."""
    name = name.strip()
    if name == "root":
        return True
    digits = name.lstrip("+")
    return digits.isdigit() and int(digits) == 0


@handler("chmod_like")
def chmod_like(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], spec.options)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    positionals = parsed.positionals
    if name == "chattr" and positionals and (positionals[0].value or "").startswith(("+", "-", "=")):
        positionals = positionals[1:]
    for w in positionals:
        add_path(info, "chmod", w, ctx)


@handler("chown")
def chown(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], spec.options)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    positionals = list(parsed.positionals)
    reference = any(o == "--reference" for o, _ in parsed.options)
    recursive = bool(spec.recursive & set(parsed.flags))
    owner: str | None = None
    to_root = False
    if not reference and positionals:
        owner_word = positionals.pop(0)
        owner = owner_word.value
        if owner is None:
            # not known before it runs (`$(id -u)`): could be root, so a human decides
            code(info, "dynamic", f"{name} to an owner not known before it runs: {owner_word.raw}", ctx)
        else:
            user, _, group = owner.partition(":" if ":" in owner else ".")
            if name == "chgrp":
                user, group = "", owner
            to_root = _is_root(user) or (not user and _is_root(group))
    for w in positionals:
        add_path(info, "chown", w, ctx, recursive=recursive, owner=owner, to_root=to_root)


# ---------------------------------------------------------------- archives


@handler("tar")
def tar(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    args = list(words[1:])
    # old style: `tar xzf a.tgz` -> `tar -x -z -f a.tgz`
    if args and args[0].value and not args[0].value.startswith("-") and re.fullmatch(r"[A-Za-z]+", args[0].value):
        args[0] = Word.literal("-" + args[0].value)
    opts = {"-f": "value", "--file": "value", "-C": "value", "--directory": "value",
            "-T": "read", "--files-from": "read", "-X": "read", "--exclude-from": "read",
            "--exclude": "value", "-b": "value", "--blocking-factor": "value", "-H": "value",
            "--format": "value", "-I": "code", "--use-compress-program": "code",
            "--to-command": "code", "--transform": "value", "--xform": "value",
            "--strip-components": "value", "-g": "write", "--listed-incremental": "write",
            "--checkpoint-action": "value", "--owner": "value", "--group": "value",
            "--mode": "value", "--mtime": "value", "-V": "value", "--label": "value",
            "-K": "value", "-N": "value", "--newer": "value", "--info-script": "code",
            "-F": "code", "--new-volume-script": "code", "--rsh-command": "code"}  # fmt: skip
    parsed = parse_args(args, opts)
    flags = set(parsed.flags)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    for opt, w in parsed.options:
        role = opts.get(opt, "value")
        if role == "code" or (opt == "--checkpoint-action" and (w.value or "exec").startswith("exec")):
            code(info, "runs_programs", f"tar {opt} runs another program", ctx)
        elif role in ("read", "write"):
            add_path(info, role, w, ctx)
    archive = next((w for o, w in parsed.options if o in ("-f", "--file")), None)
    directory = next((w for o, w in parsed.options if o in ("-C", "--directory")), None)
    extract = bool(flags & {"-x", "--extract", "--get"})
    create = bool(flags & {"-c", "--create", "-r", "--append", "-u", "--update", "-A", "--catenate", "--concatenate"})
    if extract:
        if archive is not None:
            add_path(info, "read", archive, ctx)
        target = directory if directory is not None else Word.literal(".")
        eff = path_effect("write", target, ctx, recursive=True)
        if eff is not None:
            info.effects.append(PathEffect(eff.op, eff.path, eff.location, eff.source, eff.raw,
                                           True, False, eff.ancestor, eff.in_git))
    elif create:
        if archive is not None:
            add_path(info, "write", archive, ctx)
        for w in parsed.positionals:
            if directory is not None and directory.value and w.value and not w.value.startswith("/"):
                w = Word.literal(posixpath.join(directory.value, w.value))
            add_path(info, "read", w, ctx)
    elif archive is not None:
        add_path(info, "read", archive, ctx)


@handler("zip")
def zip_(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], spec.options)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    for opt, w in parsed.options:
        role = spec.options.get(opt, "value")
        if role in ("write", "read"):
            add_path(info, role, w, ctx)
        elif role == "code":
            code(info, "runs_programs", f"zip {opt} runs a program", ctx)
            if w.value:
                info.code_strings.append(w.value)
    if parsed.positionals:
        add_path(info, "write", parsed.positionals[0], ctx)
        for w in parsed.positionals[1:]:
            add_path(info, "read", w, ctx)
    if "-m" in parsed.flags:
        for w in parsed.positionals[1:]:
            add_path(info, "delete", w, ctx)


@handler("unzip")
def unzip(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], spec.options)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    if parsed.positionals:
        add_path(info, "read", parsed.positionals[0], ctx)
    if set(parsed.flags) & {"-l", "-t", "-p", "-v", "-z", "-Z"}:
        return
    target = next((w for o, w in parsed.options if o == "-d"), Word.literal("."))
    add_path(info, "write", target, ctx, recursive=True)


@handler("rsync")
def rsync(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    opts = {"-e": "value", "--rsh": "value", "--exclude": "value", "--include": "value",
            "--exclude-from": "read", "--include-from": "read", "--files-from": "read",
            "--password-file": "read", "-f": "value", "--filter": "value", "--chmod": "value",
            "--rsync-path": "code", "-T": "value", "--temp-dir": "value", "--log-file": "write",
            "-B": "value", "--block-size": "value", "--port": "value", "--timeout": "value",
            "--backup-dir": "write", "--suffix": "value", "--compare-dest": "read",
            "--copy-dest": "read", "--link-dest": "read", "--bwlimit": "value", "--max-size": "value",
            "--min-size": "value", "--partial-dir": "value", "--out-format": "value",
            "--info": "value", "--debug": "value", "-M": "value", "--remote-option": "value"}  # fmt: skip
    parsed = parse_args(words[1:], opts)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    for opt, w in parsed.options:
        role = opts.get(opt, "value")
        if role in ("read", "write"):
            add_path(info, role, w, ctx)
        elif role == "code":
            code(info, "runs_programs", f"rsync {opt} runs a program", ctx)
        elif opt == "--chmod" and (w.value is None or _is_setuid_mode(w.value.split(":")[-1])):
            info.effects.append(PathEffect("chmod", None, "unknown", ctx.cmd.text, w.raw, setuid=w.value is not None,
                                           mode=w.value))
    _copy_like(parsed.positionals, ctx, info, protocol="rsync",
               remove_sources="--remove-source-files" in parsed.flags)


_REMOTE_RE = re.compile(r"^(?:[^/@:]+@)?(\[[^\]]+\]|[A-Za-z0-9_.-]+):(?!//)")


def _remote_host(word: Word) -> str | None:
    v = word.value if word.value is not None else word.prefix
    if v.startswith(("rsync://", "scp://", "sftp://", "ssh://")):
        rest = v.split("://", 1)[1]
        return rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":")[0]
    m = _REMOTE_RE.match(v)
    if m and "/" not in m.group(0)[:-1]:
        return m.group(1).strip("[]")
    return None


def _copy_like(positionals: list[Word], ctx: Ctx, info: Info, *, protocol: str,
               remove_sources: bool = False) -> None:
    """scp/rsync: local sources are read, a local destination written, remotes contacted."""
    if not positionals:
        return
    *sources, dest = positionals if len(positionals) > 1 else ([*positionals, Word.literal(".")])
    dest_host = _remote_host(dest)
    for w in sources:
        host = _remote_host(w)
        if host is not None:
            eff = host_effect(protocol, Word.literal(host), ctx, info)
            info.network_source = True
            del eff
        else:
            add_path(info, "read", w, ctx)
            if remove_sources:
                add_path(info, "delete", w, ctx)
    if dest_host is not None:
        host_effect(protocol, Word.literal(dest_host), ctx, info)
    else:
        add_path(info, "write", dest, ctx, recursive=True)
        if any(_remote_host(w) for w in sources) and dest.value:
            res = resolve(dest.value, ctx.cwd, ctx.paths)
            if res.path:
                info.downloads.append(res.path)


# ---------------------------------------------------------------- find and xargs

_FIND_VALUE_TESTS = {
    "-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex",
    "-type", "-xtype", "-size", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin",
    "-newer", "-anewer", "-cnewer", "-perm", "-user", "-group", "-uid", "-gid", "-links",
    "-inum", "-samefile", "-lname", "-ilname", "-used", "-maxdepth", "-mindepth", "-fstype",
    "-regextype", "-context", "-printf", "-newerXY", "-files0-from",
}  # fmt: skip
_FIND_NO_VALUE_FILTERS = {"-empty", "-executable", "-readable", "-writable", "-nouser", "-nogroup", "-true", "-false"}
_FIND_OUTPUT = {"-fprint": 1, "-fprint0": 1, "-fls": 1, "-fprintf": 2}


@handler("find")
def find(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    args = words[1:]
    i = 0
    while i < len(args) and args[i].value in ("-H", "-L", "-P", "-O0", "-O1", "-O2", "-O3", "-D"):
        i += 2 if args[i].value == "-D" else 1
    roots: list[Word] = []
    while i < len(args):
        v = args[i].value
        if v is not None and (v.startswith("-") or v in ("(", "!", ")", ",")):
            break
        roots.append(args[i])
        i += 1
    if not roots:
        roots = [Word.literal(".")]
    expr = args[i:]
    flags = {w.value for w in expr if w.value and w.value.startswith("-")}
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    root_effects = [path_effect("list", r, ctx) for r in roots]
    for eff in root_effects:
        if eff is not None:
            info.effects.append(eff)
    filtered = any(v in _FIND_VALUE_TESTS or v in _FIND_NO_VALUE_FILTERS for v in flags
                   if v not in ("-maxdepth", "-mindepth", "-regextype"))
    j = 0
    while j < len(expr):
        v = expr[j].value
        if v == "-delete":
            for r in roots:
                eff = path_effect("delete", r, ctx, recursive=True)
                if eff is not None:
                    info.effects.append(PathEffect(
                        "delete", eff.path, eff.location, eff.source, eff.raw, True,
                        eff.whole and not filtered, eff.ancestor, eff.in_git))
        elif v in _FIND_OUTPUT:
            if j + 1 < len(expr):
                add_path(info, "write", expr[j + 1], ctx)
            j += _FIND_OUTPUT[v]
        elif v in ("-exec", "-execdir", "-ok", "-okdir"):
            end = j + 1
            while end < len(expr) and expr[end].value not in (";", "+"):
                end += 1
            inner = [_replace_braces(w) for w in expr[j + 1 : end]]
            sub = replace(ctx, depth=ctx.depth + 1, stdin_from_find=_worst_root(roots, ctx))
            analyse_words(inner, sub, info)
            j = end
        elif v in _FIND_VALUE_TESTS:
            j += 1
        j += 1


def _replace_braces(word: Word, marker: str = "{}") -> Word:
    if word.value is None or marker not in word.value:
        return word
    pieces = word.value.split(marker)
    parts: list[str | None] = []
    for k, piece in enumerate(pieces):
        if piece:
            parts.append(piece)
        if k < len(pieces) - 1:
            parts.append(None)
    return Word(parts, word.raw)


def _worst_root(roots: list[Word], ctx: Ctx) -> Resolved | None:
    """The root that decides: one outside W beats one inside."""
    best = None
    for r in roots:
        if r.value is None:
            return Resolved(None, "unknown")
        res = resolve(r.value, ctx.cwd, ctx.paths)
        if res.location not in ("inside", "scratch") or res.ancestor:
            return _demote_whole(res)
        best = best or res
    return _demote_whole(best) if best is not None else None


def _demote_whole(res: Resolved) -> Resolved:
    return Resolved(res.path, res.location, False, res.ancestor, res.in_git)


_XARGS_OPTS = {"-I": "value", "-i": "opt_value", "-n": "value", "-P": "value", "-d": "value",
               "-L": "value", "-l": "opt_value", "-s": "value", "-E": "value", "-e": "opt_value",
               "-a": "read", "--arg-file": "read", "--max-args": "value", "--max-procs": "value",
               "--delimiter": "value", "--replace": "value", "--max-lines": "value",
               "--max-chars": "value", "--eof": "value", "--process-slot-var": "value",
               "-j": "value", "--jobs": "value", "-S": "value", "--sshlogin": "value"}  # fmt: skip


@handler("xargs")
def xargs(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    """xargs runs its command with words from stdin: unknown paths, unless they come from find."""
    args = words[1:]
    marker: str | None = None
    i = 0
    while i < len(args):
        v = args[i].value
        if v is None or not v.startswith("-") or v == "-":
            break
        if v == "--":
            i += 1
            break
        opt = v.split("=")[0] if v.startswith("--") else v[:2]
        role = _XARGS_OPTS.get(opt)
        if opt in ("-I", "--replace"):
            if "=" in v:
                marker = v.split("=", 1)[1]
            elif len(v) > 2 and not v.startswith("--"):
                marker = v[2:]
            elif i + 1 < len(args):
                marker = args[i + 1].value or "{}"
                i += 1
        elif opt == "-i":
            marker = v[2:] or "{}"
        elif role == "read":
            target = Word([v.split("=", 1)[1]], v) if "=" in v else (args[i + 1] if i + 1 < len(args) else None)
            if target is not None:
                add_path(info, "read", target, ctx)
            if "=" not in v:
                i += 1
        elif (role == "value" and len(v) == 2) or (v.startswith("--") and role == "value" and "=" not in v):
            i += 1
        i += 1
    info.effects.append(exec_effect(name, words, ctx, spec))
    if name == "parallel" and not args[i:]:
        info.reads_stdin_program = "shell"  # GNU parallel with no command runs its input lines
        return
    inner = args[i:] or [Word.literal("echo")]
    sub = replace(ctx, depth=ctx.depth + 1, stdin_text=None)
    items = _literal_items(ctx.stdin_text)
    if items is not None:
        # `echo / | xargs rm -rf`: the items are known
        if marker:
            for item in items:
                analyse_words([_substitute(w, marker, item) for w in inner], sub, info)
        else:
            analyse_words([*inner, *(Word.literal(item) for item in items)], sub, info)
        return
    if marker:
        inner = [_replace_braces(w, marker) for w in inner]
    else:
        inner = [*inner, Word([None], "<stdin>")]
    analyse_words(inner, sub, info)


def _literal_items(text: str | None, limit: int = 32) -> list[str] | None:
    """xargs items of a literal input (whitespace and quotes split them), or None."""
    if text is None:
        return None
    import shlex

    try:
        items = shlex.split(text)
    except ValueError:
        return None
    return items if 0 < len(items) <= limit else None


def _substitute(word: Word, marker: str, item: str) -> Word:
    if word.value is None or marker not in word.value:
        return word
    return Word.literal(word.value.replace(marker, item))


# ---------------------------------------------------------------- HTTP clients

_CURL_VALUE = {
    "-A", "--user-agent", "-e", "--referer", "-m", "--max-time", "--connect-timeout", "-w",
    "--write-out", "-r", "--range", "-z", "--time-cond", "--retry", "--retry-delay",
    "--retry-max-time", "-Y", "--speed-limit", "-y", "--speed-time", "--limit-rate", "-C",
    "--continue-at", "--ciphers", "--interface", "--local-port", "-Q", "--quote",
    "--max-filesize", "--max-redirs", "-t", "--telnet-option", "--proto", "--proto-redir",
    "--noproxy", "--dns-servers", "-x", "--proxy", "-U", "--proxy-user", "--cacert",
    "--capath", "-E", "--cert", "--key", "--cert-type", "--key-type", "--pass", "-P",
    "--ftp-port", "--socks4", "--socks4a", "--socks5", "--socks5-hostname", "--preproxy",
    "--tls-max", "--tlsv1.3", "--variable", "--expand-url", "--url-query", "--oauth2-bearer",
    "--aws-sigv4", "--hostpubmd5", "--hostpubsha256", "--pinnedpub", "--keepalive-time",
    "--happy-eyeballs-timeout-ms", "--compressed-ssh", "--service-name", "--sasl-authzid",
    "--login-options", "--mail-from", "--mail-rcpt", "--mail-auth", "--request-target",
    "--proxy-header", "--netrc-file", "--abstract-unix-socket", "--unix-socket",
    "--connect-to", "--resolve", "-b", "--cookie", "-c", "--cookie-jar", "-D",
    "--dump-header", "--trace", "--trace-ascii", "--stderr", "--libcurl", "--output-dir",
    "-K", "--config", "-u", "--user", "-X", "--request", "-H", "--header", "-d", "--data",
    "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode", "--json", "-F",
    "--form", "--form-string", "-T", "--upload-file", "-o", "--output", "--url",
    "--create-file-mode", "--etag-save", "--etag-compare", "--ech", "--ip-tos", "--vlan-priority",
}  # fmt: skip
_CURL_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode", "--json"}


@handler("curl")
def curl(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    opts = {o: "value" for o in _CURL_VALUE}
    parsed = parse_args(words[1:], opts)
    flags = set(parsed.flags)
    method: str | None = None
    headers: list[str] = []
    body_parts: list[str] = []
    has_data = False
    upload = False
    head = bool(flags & {"-I", "--head"})
    get = bool(flags & {"-G", "--get"})
    outputs: list[Word] = []
    urls: list[Word] = list(parsed.positionals)
    userinfo = False
    for opt, w in parsed.options:
        v = w.value
        if opt in ("-X", "--request"):
            method = (v or "UNKNOWN").upper()
        elif opt in ("-H", "--header"):
            if v is not None and v.startswith("@"):
                add_path(info, "read", Word([v[1:]], v), ctx)
            headers.append(v if v is not None else "".join(p or "" for p in w.parts))
        elif opt in ("--oauth2-bearer", "-u", "--user", "--proxy-user", "-U"):
            userinfo = userinfo or opt in ("-u", "--user")
            headers.append(f"Authorization: {v if v is not None else ''}")
        elif opt in _CURL_DATA:
            has_data = True
            _curl_data_value(w, opt, ctx, info, body_parts)
        elif opt in ("-F", "--form", "--form-string"):
            has_data = True
            _curl_form_value(w, opt, ctx, info, body_parts)
        elif opt in ("-T", "--upload-file"):
            upload = True
            if v in ("-", "."):
                info.sends_stdin = True
            else:
                if v is not None and "{" in v:
                    for item in brace_expand(v) or [v]:
                        add_path(info, "read", Word([item], w.raw), ctx)  # curl globs `{a,b}` itself
                else:
                    add_path(info, "read", w, ctx)
        elif opt in ("-o", "--output"):
            outputs.append(w)
        elif opt in ("--url", "--expand-url"):
            urls.append(w if "{{" not in (w.value or "") else Word([None], w.raw))
        elif opt in ("-b", "--cookie") and v is not None and "=" not in v:
            add_path(info, "read", w, ctx)  # a cookie file
        elif opt in ("--key", "--cert", "-E", "--cacert", "--capath", "--proxy-key", "--proxy-cert"):
            add_path(info, "read", Word([(v or "").split(":", 1)[0]], w.raw) if v is not None else w, ctx)
        elif opt == "--variable":
            if v is not None and "@" in v.split("=", 1)[0]:
                _, _, target = v.partition("@")
                if target and target != "-":
                    add_path(info, "read", Word([target], target), ctx)  # --variable name@file
                elif target == "-":
                    info.sends_stdin = True
        elif opt in ("-w", "--write-out") and v is not None and "%output{" in v:
            for target in re.findall(r"%output\{>?([^}]*)\}", v):
                add_path(info, "write", Word.literal(target), ctx)
        elif opt in ("-K", "--config"):
            add_path(info, "read", w, ctx)
            code(info, "dynamic", "curl reads options from a config file", ctx)
        elif opt in ("-c", "--cookie-jar", "-D", "--dump-header", "--trace", "--trace-ascii",
                     "--stderr", "--libcurl", "--etag-save"):
            if v not in ("-", "%"):
                add_path(info, "write", w, ctx)
        elif opt in ("--netrc-file",):
            add_path(info, "read", w, ctx)
        elif opt in ("--unix-socket", "--abstract-unix-socket"):
            if v is None:
                code(info, "dynamic", f"curl speaks to a local socket not known before it runs: {w.raw}", ctx)
            elif "docker.sock" in v or "containerd.sock" in v or "podman.sock" in v:
                info.tags.add("privilege")
                info.effects.append(exec_effect(name, words, ctx, spec, flags=flags, tags={"privilege", "docker_socket"}))
        elif opt in ("-x", "--proxy", "--preproxy", "--socks4", "--socks4a", "--socks5", "--socks5-hostname"):
            proxy = (v or "").split("://", 1)[-1].rsplit("@", 1)[-1]
            host = proxy.rsplit(":", 1)[0] if proxy.count(":") == 1 or "]" in proxy else proxy
            host_effect("http", Word.literal(host.strip("[]")) if v is not None else None, ctx, info)
        elif opt in ("--resolve", "--connect-to"):
            addr = (v or "").rsplit(":", 1)[-1] if opt == "--resolve" else (v or "").split(":")[2] if (v or "").count(":") >= 3 else ""
            host_effect("http", Word.literal(addr.strip("[]")) if addr else None, ctx, info)
    if method is None:
        if head:
            method = "HEAD"
        elif get and not has_data:
            method = "GET"  # `-G -d` still sends the data (in the URL): decided as a POST
        elif upload:
            method = "PUT"
        elif has_data:
            method = "POST"
        else:
            method = "GET"
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    body = "\n".join(body_parts) if body_parts else None
    for u in urls:
        eff = _url_effect(u, method, ctx, info, headers=tuple(headers), body=body, sends=has_data or upload)
        if userinfo and not eff.userinfo:
            info.effects[info.effects.index(eff)] = NetEffect(**{**eff.__dict__, "userinfo": True})
    remote_name = bool(flags & {"-O", "--remote-name", "--remote-name-all"})
    out_dir = next((w.value for o, w in parsed.options if o == "--output-dir"), None)
    to_stdout = not outputs and not remote_name
    for w in outputs:
        if w.value == "-":
            to_stdout = True
            continue
        out = path_effect("write", w, ctx)
        if out is not None:
            info.effects.append(out)
            if out.path:
                info.downloads.append(out.path)
    if remote_name:
        for u in urls:
            base = _url_basename(u.value)
            target = posixpath.join(out_dir, base) if out_dir else base
            out = path_effect("write", Word.literal(target), ctx)
            if out is not None:
                info.effects.append(out)
                if out.path:
                    info.downloads.append(out.path)
    info.network_source = to_stdout or info.network_source


def _url_basename(url: str | None) -> str:
    if not url:
        return "index.html"
    path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    base = path.rstrip("/").rsplit("/", 1)[-1] if "/" in path else ""
    return base or "index.html"


def _curl_data_value(w: Word, opt: str, ctx: Ctx, info: Info, body: list[str]) -> None:
    v = w.value
    if v is None:
        body.append("".join(p or "" for p in w.parts))
        return
    if opt == "--data-urlencode":
        _, _, v2 = v.partition("=") if "=" in v else ("", "", v)
        v = v2 if "@" in v2[:1] else v
        name_at = v.split("@", 1)
        if "@" in v and not v.startswith("@") and "=" not in v.split("@")[0]:
            v = "@" + name_at[1]
    if opt != "--data-raw" and v.startswith("@"):
        target = v[1:]
        if target == "-":
            info.sends_stdin = True
        else:
            add_path(info, "read", Word([target], target), ctx)
        return
    body.append(v)


def _curl_form_value(w: Word, opt: str, ctx: Ctx, info: Info, body: list[str]) -> None:
    v = w.value
    if v is None:
        body.append("".join(p or "" for p in w.parts))
        return
    _, _, value = v.partition("=")
    if opt != "--form-string" and value[:1] in ("@", "<"):
        target = value[1:].split(";", 1)[0]
        if target == "-":
            info.sends_stdin = True
        else:
            add_path(info, "read", Word([target], target), ctx)
        return
    body.append(value)


_WGET_VALUE = {
    "-O", "--output-document", "-o", "--output-file", "-a", "--append-output", "-P",
    "--directory-prefix", "--post-data", "--post-file", "--method", "--body-data",
    "--body-file", "--header", "-i", "--input-file", "-U", "--user-agent", "--user",
    "--password", "--http-user", "--http-password", "-e", "--execute", "-B", "--base",
    "--load-cookies", "--save-cookies", "-t", "--tries", "-T", "--timeout", "-w", "--wait",
    "-l", "--level", "-A", "--accept", "-R", "--reject", "-D", "--domains", "--exclude-domains",
    "-Q", "--quota", "--limit-rate", "--referer", "--ca-certificate", "--certificate",
    "--private-key", "--bind-address", "--dns-timeout", "--connect-timeout", "--read-timeout",
    "--waitretry", "--restrict-file-names", "-X", "--exclude-directories", "-I",
    "--include-directories", "--progress", "--backups", "--cut-dirs", "--default-page",
    "-E", "--local-encoding", "--remote-encoding", "-d", "--dir", "-s", "--split",
}  # fmt: skip


@handler("wget")
def wget(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    opts = {o: "value" for o in _WGET_VALUE}
    for short in ("-c", "-N", "-r", "-q", "-nv", "-nd", "-np", "-nH", "-k", "-m", "-p", "-x", "-v", "-b", "-E", "-H", "-L", "-S"):
        opts.pop(short, None)
    opts.pop("-d", None)
    opts.pop("-s", None)
    opts.pop("-E", None)
    parsed = parse_args(words[1:], opts)
    flags = set(parsed.flags)
    method: str | None = None
    headers: list[str] = []
    body_parts: list[str] = []
    has_data = False
    output: Word | None = None
    prefix_dir: str | None = None
    userinfo = False
    urls = list(parsed.positionals)
    for opt, w in parsed.options:
        v = w.value
        if opt in ("--method",):
            method = (v or "UNKNOWN").upper()
        elif opt == "--header":
            headers.append(v if v is not None else "".join(p or "" for p in w.parts))
        elif opt in ("--post-data", "--body-data"):
            has_data = True
            body_parts.append(v if v is not None else "".join(p or "" for p in w.parts))
        elif opt in ("--post-file", "--body-file"):
            has_data = True
            if v == "-":
                info.sends_stdin = True
            else:
                add_path(info, "read", w, ctx)
        elif opt in ("-O", "--output-document"):
            output = w
        elif opt in ("-o", "--output-file", "-a", "--append-output", "--save-cookies"):
            add_path(info, "write", w, ctx)
        elif opt in ("-P", "--directory-prefix"):
            prefix_dir = v
            if v is None:
                add_path(info, "write", w, ctx)
        elif opt in ("-i", "--input-file"):
            if v != "-":
                add_path(info, "read", w, ctx)
            urls.append(Word([None], "<urls from a file>"))
        elif opt in ("--load-cookies",):
            add_path(info, "read", w, ctx)
        elif opt in ("--user", "--password", "--http-user", "--http-password"):
            userinfo = True
        elif opt in ("-e", "--execute"):
            code(info, "dynamic", "wget -e runs a wgetrc command", ctx)
    if method is None:
        method = "HEAD" if "--spider" in flags else ("POST" if has_data else "GET")
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    body = "\n".join(body_parts) if body_parts else None
    for u in urls:
        eff = _url_effect(u, method, ctx, info, headers=tuple(headers), body=body, sends=has_data)
        if userinfo and not eff.userinfo:
            info.effects[info.effects.index(eff)] = NetEffect(**{**eff.__dict__, "userinfo": True})
    if "--spider" in flags:
        return
    if output is not None:
        if output.value == "-":
            info.network_source = True
            return
        out = path_effect("write", output, ctx)
        if out is not None:
            info.effects.append(out)
            if out.path:
                info.downloads.append(out.path)
        return
    for u in urls:
        base = _url_basename(u.value) if u.value else None
        if base is None:
            add_path(info, "write", Word([prefix_dir or "", None], "<download>") if prefix_dir else Word([None], "<download>"), ctx)
            continue
        target = posixpath.join(prefix_dir, base) if prefix_dir else base
        out = path_effect("write", Word.literal(target), ctx, recursive="-r" in flags)
        if out is not None:
            info.effects.append(out)
            if out.path:
                info.downloads.append(out.path)


@handler("httpie")
def httpie(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    opts = {o: "value" for o in ("-a", "--auth", "-A", "--auth-type", "-o", "--output", "--session",
                                   "--session-read-only", "--verify", "--cert", "--cert-key",
                                   "--proxy", "--timeout", "--max-redirects", "-p", "--print",
                                   "--pretty", "-s", "--style", "--format-options")}
    parsed = parse_args(words[1:], opts)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    pos = list(parsed.positionals)
    method = None
    if pos and pos[0].value and re.fullmatch(r"[A-Z]+", pos[0].value):
        method = pos.pop(0).value
    if not pos:
        return
    url = pos.pop(0)
    headers: list[str] = []
    body: list[str] = []
    for item in pos:
        v = item.value if item.value is not None else "".join(p or "" for p in item.parts)
        m = re.match(r"^([^=:@]*)(:=@|=@|@|:=|==|=|:)(.*)$", v, re.S)
        if not m:
            continue
        sep, val = m.group(2), m.group(3)
        if sep == ":":
            headers.append(v)
        elif sep == "==":
            continue
        elif "@" in sep:
            add_path(info, "read", Word([val], val), ctx)
            body.append("")
        else:
            body.append(val)
    if method is None:
        method = "POST" if body else "GET"
    if url.value and not re.match(r"(?i)[a-z][a-z0-9+.-]*://", url.value):
        scheme = "https" if name == "https" else "http"
        url = Word.literal(f"{scheme}://{url.value.lstrip(':')}" if not url.value.startswith(":") else f"{scheme}://localhost{url.value}")
    _url_effect(url, method, ctx, info, headers=tuple(headers), body="\n".join(body) or None, sends=bool(body))
    info.network_source = True
    for opt, w in parsed.options:
        if opt in ("-o", "--output"):
            add_path(info, "write", w, ctx)


# ---------------------------------------------------------------- other network tools

_SSH_VALUE = {"-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-m",
              "-O", "-Q", "-S", "-W", "-w", "-B", "-P"}  # fmt: skip


@handler("ssh")
def ssh(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {o: "value" for o in _SSH_VALUE}, posix=True)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    if not parsed.positionals:
        return
    target = parsed.positionals[0]
    host_word = target
    if target.value and target.value.startswith(("ssh://", "sftp://")):
        rest = target.value.split("://", 1)[1].split("/", 1)[0]
        host_word = Word.literal(rest.rsplit("@", 1)[-1].split(":")[0])
    host_effect(name if name in ("ssh", "sftp", "mosh") else "ssh", host_word, ctx, info)
    info.sends_stdin = True
    info.network_source = True
    remote = parsed.positionals[1:]
    if remote:
        info.tags.add("remote_exec")


@handler("scp")
def scp(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {o: "value" for o in ("-P", "-i", "-o", "-F", "-J", "-l", "-S", "-c", "-D", "-X")})
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    _copy_like(parsed.positionals, ctx, info, protocol="scp")


@handler("nc")
def nc(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    opts = {o: "value" for o in ("-p", "-s", "-w", "-i", "-q", "-x", "-X", "-P", "-T", "-O",
                                   "-I", "-V", "-W", "-M", "-m", "-c", "-C", "-e", "--exec",
                                   "--sh-exec", "--lua-exec", "-o", "--output", "--source-port",
                                   "--wait", "--proxy", "--proxy-type", "--proxy-auth", "-g", "-G",
                                   "-b", "-t", "-f", "-s", "-I", "--interface", "-c",
                                   "--count", "-W", "--timeout")}
    if name in ("ping", "traceroute", "telnet", "ftp", "tftp", "lftp"):
        opts = {o: "value" for o in ("-c", "-i", "-w", "-W", "-s", "-t", "-I", "-p", "-m", "-q", "-f", "-n", "-l")} if name in ("ping", "traceroute") else {}
    parsed = parse_args(words[1:], opts)
    flags = set(parsed.flags)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    if name in ("nc", "ncat", "netcat") and flags & {"-e", "-c", "--exec", "--sh-exec", "--lua-exec"}:
        code(info, "reverse_shell", f"{name} starts a program wired to the connection", ctx)
    protocol = str(spec.extra.get("protocol") or ("tcp" if name in ("nc", "ncat", "netcat") else name))
    hosts = [w for w in parsed.positionals if not (w.value or "").isdigit()]
    if name in ("nc", "ncat", "netcat") and flags & {"-U", "--unixsock"}:
        _unix_socket((hosts[0].value or "") if hosts else "", ctx, info)
        info.network_source = True
        info.sends_stdin = True
        return
    if "-l" in flags and not hosts:
        info.effects.append(NetEffect(protocol, "0.0.0.0", "unspecified", ctx.cmd.text))
        info.network_source = True
        info.sends_stdin = True
        return
    if hosts:
        host_effect(protocol, hosts[0], ctx, info)
    else:
        host_effect(protocol, None, ctx, info)
    info.network_source = True
    info.sends_stdin = True


@handler("socat")
def socat(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {"-d": "flag", "-lf": "write", "-T": "value", "-b": "value",
                                    "-t": "value", "-L": "write", "-W": "write"})
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    for opt, w in parsed.options:
        if opt in ("-lf", "-L", "-W"):
            add_path(info, "write", w, ctx)
    for w in parsed.positionals:
        if w.value is None:
            code(info, "dynamic", "socat address not known before it runs", ctx)
            continue
        for address in w.value.split("!!"):  # `read-address!!write-address`
            _socat_address(address, ctx, info)
    info.network_source = True
    info.sends_stdin = True


_SOCAT_FILES = ("open", "create", "creat", "gopen", "pipe", "file", "named")
_SOCAT_HARMLESS = ("", "-", "stdio", "stdin", "stdout", "stderr", "readline", "fd", "pty")


def _socat_address(address: str, ctx: Ctx, info: Info) -> None:
    """One socat address: `TYPE:params,options`, or a bare path (GOPEN)."""
    kind, colon, rest = address.partition(":")
    k = kind.lower().split(",")[0].strip()
    target = rest.split(",")[0]
    if not colon and ("/" in k or k.startswith((".", "~"))):
        k, target = "gopen", address.split(",")[0]
    if k in ("exec", "system", "shell"):
        code(info, "reverse_shell", f"socat starts a program: {address[:60]}", ctx)
    elif k.startswith(("unix", "abstract", "local")):
        _unix_socket(target, ctx, info)
    elif k.startswith(("tcp", "udp", "openssl", "sctp", "socks", "proxy", "ssl", "dccp", "vsock", "ip")):
        if "listen" in k or "recv" in k:
            info.effects.append(NetEffect("tcp", "0.0.0.0", "unspecified", ctx.cmd.text))
        else:
            host_effect("tcp", Word.literal(target.split(":")[0]), ctx, info)
    elif k in _SOCAT_FILES:
        if target:
            add_path(info, "read", Word.literal(target), ctx)  # addresses carry data both ways
            add_path(info, "write", Word.literal(target), ctx)
    elif k.isdigit() or k in _SOCAT_HARMLESS:
        return
    else:
        code(info, "dynamic", f"socat address of a kind guardrail does not model: {address[:60]}", ctx)


_ENGINE_SOCKETS = ("docker.sock", "containerd.sock", "podman.sock", "crio.sock", "dockershim.sock")


def _unix_socket(path: str, ctx: Ctx, info: Info) -> None:
    """A local socket: the container engine's is root; any other is an unknown local service."""
    if any(name in path for name in _ENGINE_SOCKETS):
        info.tags.add("privilege")
        info.effects.append(ExecEffect("docker-socket", (path,), ctx.cmd.text, tags=frozenset({"privilege"})))
    else:
        info.effects.append(NetEffect("unix", None, "invalid", ctx.cmd.text, url=path))


@handler("openssl")
def openssl(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    sub = words[1].value if len(words) > 1 else None
    parsed = parse_args(words[2:], {o: "value" for o in ("-in", "-out", "-connect", "-key", "-pass", "-passin", "-passout", "-inkey", "-signkey", "-CAfile", "-cert", "-servername", "-K", "-iv", "-md", "-cipher", "-name", "-subj", "-days", "-config", "-newkey", "-keyout", "-certfile", "-extfile", "-extensions")})
    flags = set(parsed.flags)
    tags = set()
    if sub in ("base64", "enc") and "-d" in flags:
        tags.add("decoder")
        info.tags.add("decoder")
    info.effects.append(exec_effect(name, words, ctx, spec, subcommand=sub, flags=flags, tags=tags))
    for opt, w in parsed.options:
        if opt == "-in":
            add_path(info, "read", w, ctx)
        elif opt in ("-out", "-keyout"):
            add_path(info, "write", w, ctx)
        elif opt == "-connect":
            host_effect("tls", Word.literal((w.value or "").rsplit(":", 1)[0]) if w.value else None, ctx, info)
            info.network_source = True
            info.sends_stdin = True
            info.tags.add("network")


@handler("dns")
def dns(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {o: "value" for o in ("-t", "-c", "-p", "-q", "-x", "-b", "-f", "-k", "-y", "-W")})
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags))
    names = [w for w in parsed.positionals if not (w.value or "").startswith("@")]
    server = next((w for w in parsed.positionals if (w.value or "").startswith("@")), None)
    if server is not None and server.value:
        host_effect("dns", Word.literal(server.value[1:]), ctx, info)
    for w in names[:1]:
        host_effect("dns", w, ctx, info)
    info.network_source = True


@handler("gh")
def gh(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], {"-R": "value", "--repo": "value"}, posix=True)
    sub = parsed.positionals[0].value if parsed.positionals else None
    info.effects.append(exec_effect(name, words, ctx, spec, subcommand=sub, flags=parsed.flags))


# ---------------------------------------------------------------- git

_GIT_GLOBAL = {"-C": "value", "-c": "value", "--git-dir": "value", "--work-tree": "value",
               "--namespace": "value", "--exec-path": "value", "--config-env": "value",
               "--super-prefix": "value", "--list-cmds": "value", "--attr-source": "value"}  # fmt: skip
_GIT_SUB_VALUE = {
    "-m": "value", "--message": "value", "-F": "read", "--file": "read", "-b": "value",
    "-B": "value", "--author": "value", "--date": "value", "-C": "value", "-c": "value",
    "--output": "write", "-o": "value", "--format": "value", "--pretty": "value", "-n": "value",
    "--max-count": "value", "--since": "value", "--until": "value", "--grep": "value",
    "-S": "value", "-G": "value", "--depth": "value", "--branch": "value", "--origin": "value",
    "-u": "value", "--set-upstream-to": "value", "--orphan": "value", "--onto": "value",
    "-s": "value", "--strategy": "value", "-X": "value", "--strategy-option": "value",
    "--exec": "code", "-x": "code", "--upload-pack": "code", "--receive-pack": "code",
    "--open-files-in-pager": "code", "-O": "code", "--ext-diff": "flag", "--textconv": "flag",
    "--template": "value", "--reference": "value", "--separate-git-dir": "value",
    "--shallow-since": "value", "--jobs": "value", "-j": "value", "--abbrev": "value",
    "--author-date-order": "flag", "--diff-filter": "value", "--word-diff": "value",
    "--stat": "flag", "-U": "value", "--unified": "value", "--color": "value",
    "--decorate": "value", "--remote": "value", "--contains": "value", "--points-at": "value",
    "--merged": "value", "--no-merged": "value", "--sort": "value", "-t": "value",
    "--track": "value", "--chmod": "value", "--pathspec-from-file": "read",
    "--config": "value", "--filter": "value", "--recurse-submodules": "value",
}  # fmt: skip


@handler("git")
def git(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    """git: global options, the subcommand, and what it does to paths and the network."""
    parsed = parse_args(words[1:], _GIT_GLOBAL, posix=True)
    flags = set(parsed.flags)
    cwd_ctx = ctx
    for opt, w in parsed.options:
        if opt == "-C":
            add_path(info, "list", w, ctx)
            if w.value is not None:
                from guardrail.parsers.paths import normalise

                new_cwd = normalise(w.value, ctx.cwd or ctx.paths.workspace, ctx.paths.home)
                cmd = ctx.cmd
                shadow = type(cmd)(**{**cmd.__dict__, "cwd": new_cwd})
                cwd_ctx = replace(ctx, cmd=shadow)
        elif opt in ("--git-dir", "--work-tree"):
            add_path(info, "list", w, ctx)
        elif opt == "--exec-path":
            code(info, "runs_programs", "git --exec-path runs programs from another directory", ctx)
        elif opt in ("-c", "--config-env"):
            info.tags.add("git_inline_config")
    if not parsed.positionals:
        info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
        return
    sub_word = parsed.positionals[0]
    sub = sub_word.value
    if sub is None:
        code(info, "dynamic", "git subcommand not known before it runs", ctx)
        return
    rest = parsed.positionals[1:]
    sub_parsed = parse_args(rest, _GIT_SUB_VALUE)
    sub_flags = set(sub_parsed.flags)
    if "--" in [w.value for w in rest]:
        sub_flags.add("--")
    tags = _git_tags(sub, sub_parsed.positionals, sub_flags, cwd_ctx)
    if any(o in ("-c", "--config-env") for o, _ in parsed.options):
        tags.add("git_inline_config")
    info.tags.update(tags)
    info.effects.append(exec_effect(name, words, ctx, spec, subcommand=sub,
                                    flags=flags | sub_flags, tags=tags))
    if "git_config_set" in tags and sub_flags & {"--global", "--system"}:
        # `git config --global k v` writes the user's (or the system's) git configuration
        target = "/etc/gitconfig" if "--system" in sub_flags else "~/.gitconfig"
        add_path(info, "write", Word([target], target, tilde=target.startswith("~")), cwd_ctx)
    for opt, w in sub_parsed.options:
        role = _GIT_SUB_VALUE.get(opt, "value")
        if role in ("read", "write"):
            add_path(info, role, w, cwd_ctx)
        elif role == "code":
            code(info, "runs_programs", f"git {sub} {opt} runs a program", ctx)
            if w.value:
                info.code_strings.append(w.value)
    pos = sub_parsed.positionals
    if sub == "clone" and pos:
        _git_remote(pos[0], ctx, info)
        dest = pos[1] if len(pos) > 1 else Word.literal(_repo_dirname(pos[0].value))
        made = add_path(info, "write", dest, cwd_ctx, recursive=True)
        if made is not None and made.path:
            info.downloads.append(made.path)  # its scripts came from the network
    elif sub in ("pull", "push", "ls-remote", "submodule", "archive") and sub != "archive":
        remote = pos[0] if pos else None
        shown = (remote.value if remote.value is not None else url_with_known_host(remote)) if remote else None
        if remote is not None and shown and ("://" in shown or "@" in shown):
            _git_remote(remote, ctx, info)
        else:
            info.effects.append(NetEffect("git", None, "invalid", ctx.cmd.text))
    elif sub == "worktree" and len(pos) >= 2 and pos[0].value == "add":
        add_path(info, "write", pos[1], cwd_ctx, recursive=True)  # checks the branch out there
    elif sub == "worktree" and len(pos) >= 2 and pos[0].value == "remove":
        add_path(info, "delete", pos[1], cwd_ctx, recursive=True)
    elif sub == "rm":
        for w in pos:
            if "--cached" not in sub_flags:
                add_path(info, "delete", w, cwd_ctx, recursive="-r" in sub_flags)
    elif sub == "mv" and len(pos) >= 2:
        for w in pos[:-1]:
            add_path(info, "delete", w, cwd_ctx)
        add_path(info, "write", pos[-1], cwd_ctx)
    elif sub == "apply":
        for w in pos:
            add_path(info, "read", w, cwd_ctx)
    elif sub in ("show", "cat-file", "blame", "log", "diff", "grep", "archive") and cwd_ctx.cwd is not None:
        for w in pos:
            if w.value and ":" in w.value and not w.value.startswith(":/") and "://" not in w.value:
                path = w.value.split(":", 1)[1]
                if path:
                    add_path(info, "read", Word.literal(path), cwd_ctx)  # `git show HEAD:.env`
        if sub == "diff" and "--no-index" in sub_flags:
            for w in pos:
                add_path(info, "read", w, cwd_ctx)  # `git diff --no-index` reads any two files
    elif sub == "diff" and "--no-index" in sub_flags:
        for w in pos:
            add_path(info, "read", w, cwd_ctx)  # `git diff --no-index` reads any two files
    elif sub in ("bundle", "format-patch") and pos:
        pass


def _git_tags(sub: str, pos: list[Word], flags: set[str], ctx: Ctx) -> set[str]:
    """Classify what a git subcommand does where it depends on its arguments."""
    tags: set[str] = set()
    values = [w.value for w in pos]
    if sub == "checkout":
        if flags & {"-b", "-B", "--orphan"}:
            tags.add("git_branch_create")
        if flags & {"-B", "--orphan"}:
            tags.add("git_branch_change")  # -B resets an existing branch; --orphan starts a new history
        if flags & {"--", "-f", "--force", "-p", "--patch", "--ours", "--theirs", "-m", "--merge"} or any(
            v is None or v == "." or _exists(v, ctx) for v in values
        ):
            tags.add("git_discard")
    elif sub == "restore":
        if not (flags & {"--staged", "-S"}) or flags & {"--worktree", "-W"}:
            tags.add("git_discard")
    elif sub == "switch":
        if flags & {"--discard-changes", "-f", "--force"}:
            tags.add("git_discard")
        if flags & {"-C", "--force-create", "--orphan"}:
            tags.add("git_branch_change")
    elif sub == "config":
        reading = flags & {"--get", "--get-all", "--get-regexp", "--list", "-l", "--get-urlmatch",
                           "--get-color", "--get-colorbool", "--show-origin", "--show-scope",
                           "--name-only"}
        writing = flags & {"--unset", "--unset-all", "--add", "--replace-all", "--edit", "-e",
                           "--remove-section", "--rename-section"}
        if writing or (not reading and len(values) >= 2) or (values and values[0] in ("set", "unset", "edit", "rename-section", "remove-section")):
            tags.add("git_config_set")
        else:
            tags.add("git_config_get")
    elif sub == "branch":
        if flags & {"-D", "-d", "--delete", "-m", "-M", "--move", "-c", "-C", "--copy", "-f",
                    "--force", "-u", "--set-upstream-to", "--unset-upstream", "--edit-description"}:
            tags.add("git_branch_change")
    elif sub == "tag":
        if (values and not (flags & {"-l", "--list"})) or flags & {"-d", "--delete", "-f", "--force", "-a", "-s", "-m"}:
            tags.add("git_tag_change")
    elif sub == "stash":
        action = values[0] if values else "push"
        tags.add(f"git_stash_{action}" if action else "git_stash_push")
    elif sub == "remote":
        if values and values[0] not in ("get-url",):
            tags.add("git_remote_change")  # `remote show` contacts the remote
    elif (sub == "reset" and flags & {"--hard", "--merge", "--keep"}) or (sub == "clean" and (any(f.startswith("-") and not f.startswith("--") and "f" in f for f in flags) or "--force" in flags)):
        tags.add("git_discard")
    elif sub == "commit" and "--amend" in flags:
        tags.add("git_rewrite")
    return tags


def _exists(value: str, ctx: Ctx) -> bool:
    base = ctx.cwd or ctx.paths.workspace
    path = value if value.startswith("/") else os.path.join(base, value)
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def _git_remote(word: Word, ctx: Ctx, info: Info) -> None:
    v = word.value if word.value is not None else url_with_known_host(word)
    if v is None:
        eff = NetEffect("git", None, "invalid", ctx.cmd.text)
        info.effects.append(eff)
        info.sinks.append(eff)
        return
    if "://" in v:
        from guardrail.parsers.url import parse_url

        parsed = parse_url(v)
        scheme = parsed.scheme or "git"
        if scheme == "file":
            add_path(info, "read", Word.literal(v.split("://", 1)[1]), ctx)
            return
        eff = NetEffect("git", parsed.host, parsed.address, ctx.cmd.text, url=v, scheme=scheme,
                        port=parsed.port, userinfo=parsed.userinfo)
        info.effects.append(eff)
        info.sinks.append(eff)  # a push sends the repository; the URL may carry a token
        return
    host = _remote_host(word)
    if host is not None:
        host_effect("git", Word.literal(host), ctx, info)
        return
    add_path(info, "read", word, ctx)  # a local repository


def _repo_dirname(url: str | None) -> str:
    if not url:
        return "."
    base = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return base[:-4] if base.endswith(".git") else (base or ".")


# ---------------------------------------------------------------- databases


@handler("sql_client")
def sql_client(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    from guardrail.parsers.sql import parse_sql

    dialect = spec.extra.get("dialect")
    query_opts = set(spec.extra.get("query_options") or ())
    file_opts = set(spec.extra.get("file_options") or ())
    valued = set(spec.extra.get("value_options") or ())
    opts = {o: "value" for o in valued | query_opts | file_opts}
    parsed = parse_args(words[1:], opts)
    queries: list[Word] = [w for o, w in parsed.options if o in query_opts or o == "-cmd"]
    for o, w in parsed.options:
        if o in file_opts or o == "-init":
            add_path(info, "read", w, ctx)
            info.effects.append(DbEffect("UNKNOWN", ctx.cmd.text, parsed=False, dialect=dialect))
        elif o in ("-o", "--output", "-L", "--log-file"):
            add_path(info, "write", w, ctx)
    pos = list(parsed.positionals)
    db: Word | None = None
    if spec.extra.get("positional_db") and pos:
        db = pos.pop(0)
        if db.value in (":memory:", ""):
            db = None
        else:
            add_path(info, "read", db, ctx)
        queries.extend(pos)
    elif name in ("mysql", "mariadb") and pos:
        pos.pop(0)
    tags: set[str] = set()
    if not queries:
        # statements on standard input: a literal (here-doc, `echo "..." |`) is read; else ask
        if ctx.stdin_text is not None:
            queries.append(Word.literal(ctx.stdin_text))
        else:
            tags.add("sql_stdin")
    info.tags.update(tags)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=parsed.flags, tags=tags))
    for q in queries:
        if q.value is None:
            info.effects.append(DbEffect("UNKNOWN", ctx.cmd.text, parsed=False, dialect=dialect))
            continue
        if q.value.lstrip().startswith("."):
            _sqlite_dot(q.value.strip(), ctx, info)
            continue
        for line in q.value.splitlines():
            if line.lstrip().startswith("."):
                _sqlite_dot(line.strip(), ctx, info)  # dot-commands between statements
        if dialect == "sqlite" and re.search(r"(?i)\bedit\s*\(", q.value):
            code(info, "runs_programs", "sqlite3's edit() runs an editor program", ctx)
        statements = parse_sql(q.value, dialect, ctx.cmd.text)
        info.effects.extend(statements)
        if db is not None and any("writes" in e.features or "ddl" in e.features or not e.parsed for e in statements):
            add_path(info, "write", db, ctx)  # the database file itself changes


_SQLITE_WRITES = frozenset({".output", ".once", ".save", ".backup", ".log", ".trace", ".clone", ".excel", ".dump",
                            ".open"})  # .open creates the file if it is missing
_SQLITE_READS = frozenset({".read", ".import", ".restore"})
_SQLITE_HARMLESS = frozenset({
    ".tables", ".schema", ".indexes", ".indices", ".headers", ".header", ".mode", ".width", ".timer",
    ".echo", ".nullvalue", ".separator", ".show", ".help", ".quit", ".exit", ".databases", ".fullschema",
    ".changes", ".bail", ".print", ".prompt", ".stats", ".eqp", ".explain", ".lint", ".selftest",
    ".sha3sum", ".vfsinfo", ".vfslist", ".vfsname", ".dbinfo", ".expert", ".limit", ".parameter",
    ".progress", ".scanstats", ".testcase", ".unmodule", ".connection",
})  # fmt: skip


def _sqlite_dot(text: str, ctx: Ctx, info: Info) -> None:
    """sqlite3 shell dot-commands, quoted as the sqlite shell quotes them: a file argument
    starting with `|` runs a program; an unknown dot-command is asked about."""
    import shlex

    for line in text.splitlines():
        try:
            parts = shlex.split(line.strip(), posix=True)
        except ValueError:
            code(info, "unparsed", f"sqlite3 command {line[:60]!r} does not parse", ctx)
            continue
        if not parts:
            continue
        cmd = parts[0].split(" ")[0]
        args = [a for a in parts[1:] if not a.startswith("-")]
        targets = [a for a in args if a.startswith("|")]
        for target in targets:
            code(info, "runs_programs", f"sqlite3 {cmd} runs a program: {target[:60]!r}", ctx)
            if target[1:].strip():
                info.code_strings.append(target[1:].strip())
        files = [a for a in args if not a.startswith("|")]
        if cmd in (".shell", ".system"):
            code(info, "runs_programs", f"sqlite3 {cmd} runs a program", ctx)
            info.code_strings.append(" ".join(parts[1:]))
        elif cmd == ".load":
            info.effects.append(DbEffect("LOAD EXTENSION", ctx.cmd.text, features=frozenset({"load_extension"})))
        elif cmd == ".cd":
            code(info, "dynamic", "sqlite3 .cd changes the directory later file names are relative to", ctx)
        elif cmd in (".archive", ".ar"):
            code(info, "dynamic", "sqlite3 .archive reads and writes files", ctx)
        elif cmd in _SQLITE_WRITES:
            for name in files[-1:]:
                add_path(info, "write", Word.literal(name), ctx)
        elif cmd in _SQLITE_READS:
            for name in files[:1]:
                add_path(info, "read", Word.literal(name), ctx)
            if cmd == ".read":  # its statements (and dot-commands) are not seen here
                code(info, "dynamic", "sqlite3 .read runs statements from a file guardrail does not read", ctx)
        elif cmd not in _SQLITE_HARMLESS:
            code(info, "dynamic", f"sqlite3 {cmd} is not a command guardrail knows", ctx)


# ---------------------------------------------------------------- containers

_DOCKER_GLOBAL = {"-H": "value", "--host": "value", "--context": "value", "-c": "value",
                  "--config": "value", "-l": "value", "--log-level": "value",
                  "--tlscacert": "value", "--tlscert": "value", "--tlskey": "value"}  # fmt: skip
_DOCKER_RUN_VALUE = {o: "value" for o in (
    "-v", "--volume", "--mount", "-e", "--env", "--env-file", "-p", "--publish", "--name",
    "-w", "--workdir", "-u", "--user", "--network", "--net", "--pid", "--ipc", "--uts",
    "--userns", "--cap-add", "--cap-drop", "--security-opt", "--device", "--entrypoint",
    "-m", "--memory", "--cpus", "-h", "--hostname", "--label", "-l", "--platform", "--restart",
    "--add-host", "--dns", "--tmpfs", "--ulimit", "--gpus", "--runtime", "--cgroupns",
    "--cgroup-parent", "--group-add", "--health-cmd", "--log-driver", "--log-opt",
    "--shm-size", "--stop-signal", "--sysctl", "--volumes-from", "--link", "-a", "--attach",
    "--cidfile", "--detach-keys", "--pull", "--expose", "--mac-address", "--ip", "--ip6",
    "--storage-opt", "--pids-limit", "--oom-score-adj", "--memory-swap", "--cpu-shares",
    "-c", "--cpuset-cpus", "--blkio-weight", "--isolation", "--init-path")}
_COMPOSE_GLOBAL = {o: "value" for o in ("-f", "--file", "-p", "--project-name", "--profile", "--env-file",
                                         "--project-directory", "--ansi", "--parallel", "--progress")}
_HOST_MOUNTS = ("/", "/etc", "/root", "/var/run/docker.sock", "/run/docker.sock", "/proc", "/sys",
                "/dev", "/boot", "/var/lib/docker", "/run/containerd/containerd.sock", "/home")


@handler("docker")
def docker(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    parsed = parse_args(words[1:], _DOCKER_GLOBAL, posix=True)
    pos = parsed.positionals
    sub = pos[0].value if pos else None
    rest = pos[1:]
    if sub == "container" and rest:
        sub = rest[0].value
        rest = rest[1:]
    if name == "docker-compose" or sub == "compose":
        # `docker compose run --privileged app`: a container run of the same kind
        compose = parse_args(pos[1:] if sub == "compose" else words[1:], _COMPOSE_GLOBAL, posix=True)
        for opt, w in compose.options:
            if opt in ("-f", "--file", "--env-file"):
                add_path(info, "read", w, ctx)
        sub = compose.positionals[0].value if compose.positionals else None
        rest = compose.positionals[1:]
    tags: set[str] = set()
    flags: set[str] = set(parsed.flags)
    if sub in ("run", "create", "exec"):
        run = parse_args(rest, _DOCKER_RUN_VALUE, posix=True)
        flags |= set(run.flags)
        options = [(o, Word([w.value[1:]], w.raw) if w.value and w.value.startswith("=") and not o.startswith("--")
                    else w) for o, w in run.options]  # Go's flag parser takes `-v=/:/host`
        if "--privileged" in run.flags and not any(o == "--privileged" for o, _ in options):
            tags.add("privilege")
        for opt, w in options:
            v = (w.value or "").strip()
            if opt == "--privileged" and v.lower() not in ("false", "0"):
                tags.add("privilege")
            elif opt in ("--pid", "--network", "--net") and v == "host":
                tags.add("privilege")
            elif opt == "--cap-add":
                tags.add("privilege")
            elif _host_access(opt, v):
                tags.add("host_access")  # not in the spec's deny list: the fallback asks
            elif opt in ("-v", "--volume"):
                source = (w.value if w.value is not None else w.prefix).split(":", 1)[0]
                if _host_mount(source, ctx):
                    tags.add("privilege")
                elif w.value is None and not _inside_prefix(w.prefix, ctx):
                    tags.add("unknown_mount")
            elif opt == "--mount":
                src = re.search(r"(?:^|,)(?:source|src)=([^,]*)", v)
                if src and _host_mount(src.group(1), ctx):
                    tags.add("privilege")
                elif w.value is None:
                    tags.add("unknown_mount")
    info.tags.update(tags)
    info.effects.append(exec_effect(name, words, ctx, spec, subcommand=sub, flags=flags, tags=tags))


def _host_access(opt: str, value: str) -> bool:
    if opt in ("--ipc", "--uts", "--userns", "--cgroupns"):
        return value == "host"
    if opt == "--security-opt":
        return any(word in value for word in ("unconfined", "no-new-privileges=false", "label=disable"))
    return opt == "--device"


def _inside_prefix(prefix: str, ctx: Ctx) -> bool:
    """A mount source known up to `prefix` that already lies inside the workspace."""
    from guardrail.parsers.paths import resolve_prefix

    return resolve_prefix(prefix, ctx.cwd, ctx.paths).location in ("inside", "scratch")


def _host_mount(src: str, ctx: Ctx) -> bool:
    if not src:
        return False
    if not src.startswith(("/", "~", "$HOME", ".")):
        return False  # a named volume
    from guardrail.parsers.paths import normalise

    norm = normalise(src, ctx.cwd or ctx.paths.workspace, ctx.paths.home)
    home = ctx.paths.home.rstrip("/")
    if norm in _HOST_MOUNTS or norm == home or norm.endswith(".sock"):
        return True
    if home.startswith(norm.rstrip("/") + "/"):
        return True  # a directory the home lies in holds all of ~
    workspace = ctx.paths.workspace.rstrip("/")
    if norm == workspace or norm.startswith(workspace + "/"):
        return False
    # below the system's own trees (`-v /etc/passwd:...`) or the user's credentials
    below = [r for r in _HOST_MOUNTS if r not in ("/", "/home")]
    below += [f"{home}/{d}" for d in (".ssh", ".aws", ".gnupg", ".config", ".docker", ".kube", ".azure")]
    if any(norm == r or norm.startswith(r.rstrip("/") + "/") for r in below):
        return True
    return norm in ("/var", "/usr", "/bin", "/sbin", "/lib", "/run", "/var/run")





# ---------------------------------------------------------------- sed and awk

_SCRIPT_FILE_LIMIT = 65_536


def _script_text(word: Word, ctx: Ctx, info: Info, what: str) -> str | None:
    """The program in a -f file, when it lies in the workspace and is small; else None (dynamic)."""
    eff = add_path(info, "read", word, ctx)
    if eff is None or eff.path is None or eff.location not in ("inside", "scratch"):
        return None
    try:
        with open(eff.path, "rb") as handle:
            data = handle.read(_SCRIPT_FILE_LIMIT + 1)
    except OSError:
        return ""  # missing: the tool will fail
    if len(data) > _SCRIPT_FILE_LIMIT:
        return None
    return data.decode("utf-8", "replace")


def _script_results(effects: ScriptEffects, what: str, ctx: Ctx, info: Info) -> None:
    for name in effects.reads:
        add_path(info, "read", Word.literal(name), ctx)
    for name in effects.writes:
        if name not in ("/dev/stdout", "/dev/stderr"):
            add_path(info, "write", Word.literal(name), ctx)
    if effects.unknown_writes:
        info.effects.append(PathEffect("write", None, "unknown", ctx.cmd.text, f"<{what} output file>"))
    if effects.unknown_reads:
        info.effects.append(PathEffect("read", None, "unknown", ctx.cmd.text, f"<{what} input file>"))
    if effects.environment:
        info.tags.add("env_dump")
        info.effects.append(ExecEffect(what, (what, "ENVIRON"), ctx.cmd.text, tags=frozenset({"env_dump"})))
    if effects.runs:
        info.tags.add("runs_input")  # its program runs commands: tainted input becomes code
    for command in effects.runs:
        code(info, "runs_programs", f"{what} program runs commands: {command[:60]!r}", ctx)
        if command:
            info.code_strings.append(command)  # and what it runs is read as a line of its own


def _embedded_programs(what: str, programs: list[Word], program_files: list[Word],
                       reader: Callable[[str], ScriptEffects], ctx: Ctx, info: Info) -> None:
    """The programs given inline and in files (-f), each read for what it does."""
    texts: list[tuple[Word, str | None]] = [(w, _script_text(w, ctx, info, what)) for w in program_files]
    texts += [(w, w.value) for w in programs]
    for word, text in texts:
        if text is None:
            code(info, "dynamic", f"{what} program {word.raw!r} is not known before it runs", ctx)
        else:
            _script_results(reader(text), what, ctx, info)


@handler("sed")
def sed(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    """sed: its script can write (w, s///w), read (r) and run (e, s///e) besides the files."""
    parsed = parse_args(words[1:], spec.options)
    flags = set(parsed.flags)
    in_place = any(f in ("--in-place", "-I") or (f.startswith("-i") and not f.startswith("--")) for f in flags)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    scripts = [w for o, w in parsed.options if o in ("-e", "--expression")]
    files = list(parsed.positionals)
    script_files = [w for o, w in parsed.options if o in ("-f", "--file")]
    if not scripts and not script_files and files:
        scripts = [files.pop(0)]
    _embedded_programs("sed", scripts, script_files, sed_effects, ctx, info)
    for w in files:
        add_path(info, "write" if in_place else "read", w, ctx)


@handler("awk")
def awk(name: str, words: list[Word], spec: Spec, ctx: Ctx, info: Info) -> None:
    """awk: its program can write (print > "f"), read (getline < "f") and run (system, |)."""
    parsed = parse_args(words[1:], spec.options)
    flags = set(parsed.flags)
    info.effects.append(exec_effect(name, words, ctx, spec, flags=flags))
    programs = [w for o, w in parsed.options if o in ("--source", "-e")]
    files = list(parsed.positionals)
    program_files = [w for o, w in parsed.options if spec.options.get(o) == "script_file"]
    for opt, _w in parsed.options:
        if spec.options.get(opt) == "code":
            code(info, "runs_programs", f"awk {opt} loads code", ctx)
    if not programs and not program_files and files:
        programs = [files.pop(0)]
    _embedded_programs("awk", programs, program_files, awk_effects, ctx, info)
    for w in files:
        if w.value is not None and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w.value):
            continue  # an assignment, not a file
        add_path(info, "read", w, ctx)


__all__ = ["DOWNLOADED"]
