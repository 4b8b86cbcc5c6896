"""What small embedded programs do: sed scripts and awk programs.

`sed 's/a/b/w /etc/x'` writes a file and `sed '1e id'` runs a command;
`awk '{print > "/etc/x"}'` writes and `awk 'BEGIN{system("id")}'` runs.
These readers are linear in the length of the program (no backtracking
regular expressions): a program an agent sends can be long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class ScriptEffects:
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # commands it runs (text), or "" when unknown
    unknown_writes: bool = False
    unknown_reads: bool = False
    environment: bool = False  # reads the environment (awk's ENVIRON)


def _to_eol(text: str, i: int) -> tuple[str, int]:
    j = text.find("\n", i)
    j = len(text) if j == -1 else j
    return text[i:j], j


def _skip_delimited(text: str, i: int, delim: str, *, regex: bool = True) -> int:
    """Index just past the next unescaped `delim` from i; in a regex, a `[...]` bracket
    expression may hold the delimiter (`/[/]/`)."""
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "\n" and delim != "\n":
            return i  # GNU sed would complain; stop at the line
        if regex and ch == "[":
            i = _skip_bracket(text, i)
            continue
        if ch == delim:
            return i + 1
        i += 1
    return n


def _skip_bracket(text: str, i: int) -> int:
    """Index just past a bracket expression starting at text[i] == '['."""
    n = len(text)
    j = i + 1
    if j < n and text[j] == "^":
        j += 1
    if j < n and text[j] == "]":
        j += 1  # a leading ] is literal
    while j < n:
        if text.startswith("[:", j) or text.startswith("[.", j) or text.startswith("[=", j):
            end = text.find(text[j + 1] + "]", j + 2)
            j = end + 2 if end != -1 else n
            continue
        if text[j] == "]":
            return j + 1
        if text[j] == "\n":
            return j
        j += 1
    return n


def sed_effects(script: str) -> ScriptEffects:
    """Files a sed script reads (r, R) or writes (w, W, s///w) and commands it runs (e, s///e)."""
    out = ScriptEffects()
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        if ch in " \t\n;{}!":
            i += 1
            continue
        if ch.isdigit() or ch in "$,~+":
            i += 1
            continue
        if ch == "/" or (ch == "\\" and i + 1 < n):
            delim = "/" if ch == "/" else script[i + 1]
            i = _skip_delimited(script, i + (1 if ch == "/" else 2), delim)
            while i < n and script[i] in "IM":
                i += 1
            continue
        if ch == "#":
            _, i = _to_eol(script, i)
            continue
        i += 1
        if ch in "sy":
            if i >= n:
                break
            delim = script[i]
            i = _skip_delimited(script, i + 1, delim, regex=ch == "s")
            i = _skip_delimited(script, i, delim, regex=False)
            if ch == "y":
                continue
            flags_start = i
            while i < n and (script[i].isalnum() and script[i] not in "wW"):
                i += 1
            flags = script[flags_start:i]
            if "e" in flags:
                out.runs.append("")
            if i < n and script[i] in "wW":
                name, i = _to_eol(script, i + 1)
                _add_file(out.writes, name)
        elif ch in "rR":
            name, i = _to_eol(script, i)
            _add_file(out.reads, name)
        elif ch in "wW":
            name, i = _to_eol(script, i)
            _add_file(out.writes, name)
        elif ch == "e":
            command, i = _to_eol(script, i)
            out.runs.append(command.strip().rstrip(";").strip())
        elif ch in "lLqQ":
            while i < n and (script[i].isdigit() or script[i] in " \t"):
                i += 1  # an optional number, then the next command
        elif ch in "aic:btTv":
            # text or a label to the end of the line (a one-liner's `;` ends labels in GNU sed)
            rest, end = _to_eol(script, i)
            if ch in ":btTv":
                semi = rest.find(";")
                i = i + semi if semi != -1 else end
            else:
                i = end
    return out


def _add_file(target: list[str], name: str) -> None:
    name = name.strip()
    if name.endswith("}"):
        name = name[:-1].rstrip()
    if name:
        target.append(name)


_AWK_RUNS = re.compile(r"\bsystem\s*\(|\|\s*&|\|\s*(?:\"|[A-Za-z_])|(?:\"|[A-Za-z_)])\s*\|\s*getline")
_AWK_WRITE = re.compile(r">{1,2}\s*\"([^\"\n]*)\"")
_AWK_WRITE_VAR = re.compile(r"\bprintf?\b[^;{}\n]*?>{1,2}\s*[A-Za-z_(]")
_AWK_READ = re.compile(r"getline[^;{}\n<]*<\s*\"([^\"\n]*)\"")
_AWK_READ_VAR = re.compile(r"getline[^;{}\n<]*<\s*[A-Za-z_(]")


_AWK_ARGV = re.compile(r"\bARGV\s*\[[^\]]*\]\s*=\s*(\"([^\"\n]*)\"|[^;}\n]+)")


def awk_effects(program: str) -> ScriptEffects:
    """Files an awk program writes (print > "f") or reads (getline < "f", ARGV[i] = "f"),
    whether it runs commands (system, pipes, @load) and reads the environment (ENVIRON)."""
    out = ScriptEffects()
    if _AWK_RUNS.search(program) or re.search(r"@load\b|@[A-Za-z_]+\s*\(", program):
        out.runs.append("")
    if "ENVIRON" in program:
        out.environment = True
    for m in _AWK_ARGV.finditer(program):
        if m.group(2) is not None:
            _add_file(out.reads, m.group(2))
        else:
            out.unknown_reads = True
    for m in _AWK_WRITE.finditer(program):
        before = program[max(0, m.start() - 200) : m.start()]
        if re.search(r"\bprintf?\b", before):
            _add_file(out.writes, m.group(1))
    if _AWK_WRITE_VAR.search(program):
        out.unknown_writes = True
    for m in _AWK_READ.finditer(program):
        _add_file(out.reads, m.group(1))
    if _AWK_READ_VAR.search(program):
        out.unknown_writes = True
    return out
