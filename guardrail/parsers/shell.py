"""Shell lines -> simple commands, with tree-sitter-bash.

A line is split into the simple commands it would run, through pipelines,
lists, subshells, brace groups, `!`, control flow, function bodies,
`$(...)`, backticks, process substitution and here-documents. Each simple
command keeps what the command catalogue and the flow analysis need:
its words (with what is known of their values), redirections, the working
directory in force, what feeds its standard input and which commands'
output it consumes through substitutions.

The walker never raises: a tree with ERROR or MISSING nodes is marked
`unparsed`, nesting past `MAX_DEPTH` is marked `too_complex`, and the
caller turns both into effects for the policy to decide.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 64  # nesting of substitutions, subshells, compound statements
MAX_COMMANDS = 2_000  # simple commands in one line (literal code included)
MAX_BRACE_WORDS = 256
MAX_BRACE_DEPTH = 32
MAX_VALUE = 8_192  # longest variable value tracked

_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        import tree_sitter
        import tree_sitter_bash

        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    return _PARSER


# ---------------------------------------------------------------- words


@dataclass
class Word:
    """One shell word: literal parts as str, parts unknown before running as None."""

    parts: list[str | None]
    raw: str
    glob: bool = False  # an unquoted * ? [ in a literal part
    quoted: bool = False  # some part was quoted (so not a keyword / not a glob)
    subs: list[int] = field(default_factory=list)  # ids of commands in $(...) / <(...) inside
    variables: list[str] = field(default_factory=list)  # variable names referenced
    process_sub: str | None = None  # "<" or ">" when the word is a process substitution
    tilde: bool = False  # started with an unquoted ~
    unquoted: str = ""  # the unquoted literal text, for brace expansion
    split: bool = False  # holds an unquoted expansion whose value has blanks (field splitting)
    unquoted_expansion: bool = False  # holds an unquoted $X or $(..): subject to IFS splitting

    @property
    def value(self) -> str | None:
        parts = self.parts
        if None in parts:  # (a C-level scan: this runs for every word, many times)
            return None
        return "".join(parts)  # type: ignore[arg-type]

    @property
    def known(self) -> bool:
        return None not in self.parts

    @property
    def prefix(self) -> str:
        out = []
        for p in self.parts:
            if p is None:
                break
            out.append(p)
        return "".join(out)

    @classmethod
    def literal(cls, text: str) -> Word:
        return cls([text], text)

    @classmethod
    def unknown(cls, raw: str = "?", prefix: str = "") -> Word:
        return cls(([prefix] if prefix else []) + [None], raw)


@dataclass
class Redirect:
    op: str  # > >> < << <<< >& <& &> &>> <> >|
    fd: int | None
    target: Word | None  # file target; None for here-docs
    text: str | None = None  # here-doc / here-string body, when literal
    body_known: bool = True  # here-doc body without expansions
    subs: list[int] = field(default_factory=list)  # substitutions in a here-doc/here-string body
    variables: list[str] = field(default_factory=list)  # variables expanded in it


@dataclass
class SimpleCommand:
    id: int
    words: list[Word]  # argv: name first; assignments in front are in `assignments`
    assignments: list[tuple[str, Word]]
    redirects: list[Redirect]
    cwd: str | None  # working directory in force; None when unknown
    text: str  # the source fragment
    pipe_from: list[int] = field(default_factory=list)  # upstream commands in the pipeline
    pipe_to: list[int] = field(default_factory=list)  # downstream commands in the pipeline
    in_sub_of: int | None = None  # the command whose word contains the substitution we run in
    background: bool = False
    function_body: str | None = None  # inside the body of this function

    @property
    def name(self) -> Word | None:
        return self.words[0] if self.words else None


@dataclass
class ParsedLine:
    commands: list[SimpleCommand]
    errors: list[str]  # syntax errors found (ERROR / MISSING nodes)
    too_complex: str | None = None
    functions: dict[str, str] = field(default_factory=dict)  # name -> body text
    fork_bombs: list[str] = field(default_factory=list)
    tcp_redirect_fds: list[int] = field(default_factory=list)  # fds opened on /dev/tcp|udp
    # variable -> (variables and substitution commands its value came from): X=$(cat .env)
    derived: dict[str, tuple[set[str], set[int]]] = field(default_factory=dict)
    hidden_code: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- walker

_ANSI_ESCAPES = {
    "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n",
    "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip
_ANSI_RE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)", re.S)


def decode_ansi_c(body: str) -> str:
    """The value of $'...' (without the quotes)."""

    def sub(m: re.Match[str]) -> str:
        esc = m.group(1)
        head = esc[0]
        try:
            if head == "x":
                return chr(int(esc[1:], 16))
            if head in "uU":
                return chr(int(esc[1:], 16))
            if head.isdigit():
                return chr(int(esc, 8) & 0xFF)
            if head == "c":
                return chr(ord(esc[1]) & 0x1F)
        except (ValueError, OverflowError):
            return ""
        return _ANSI_ESCAPES.get(esc, "\\" + esc)

    return _ANSI_RE.sub(sub, body)


def _unescape_unquoted(text: str) -> tuple[str, bool]:
    """Backslashes removed from an unquoted word; and whether a glob char is live."""
    out = []
    glob = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
            continue
        if ch in "*?[":
            glob = True
        out.append(ch)
        i += 1
    return "".join(out), glob


def _unescape_double(text: str) -> str:
    return re.sub(r'\\([$`"\\\n])', lambda m: "" if m.group(1) == "\n" else m.group(1), text)


_BRACE_RE = re.compile(r"\{([^{}]*)\}")


def brace_expand(text: str) -> list[str] | None:
    """Bash brace expansion (`a{b,c}d`, `{1..3}`, nested `{a,{b,c}}`), left to right like bash;
    None when the result would be too large to follow (the word is then unknown, never
    silently truncated)."""
    try:
        return _expand_braces(text, 0)
    except _TooMany:
        return None


class _TooMany(Exception):
    pass


def _brace_group(text: str, start: int) -> tuple[int, list[str]] | None:
    """The group opening at `start`: its end and its top-level alternatives, if it is a real group."""
    depth = 0
    parts: list[str] = []
    last = start + 1
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                parts.append(text[last:i])
                if len(parts) > 1:
                    return i, parts
                inner = parts[0]
                if re.fullmatch(r"-?\w+\.\.-?\w+(\.\.-?\d+)?", inner):
                    alts = _range_alts(inner)
                    if alts is None:
                        raise _TooMany
                    return i, alts
                return None
        elif ch == "," and depth == 1:
            parts.append(text[last:i])
            last = i + 1
        i += 1
    return None


def _expand_braces(text: str, level: int) -> list[str]:
    if level > MAX_BRACE_DEPTH:
        raise _TooMany
    i = text.find("{")
    while i != -1:
        group = _brace_group(text, i)
        if group is not None:
            end, alternatives = group
            heads: list[str] = []
            for alt in alternatives:
                heads.extend(_expand_braces(alt, level + 1))
                if len(heads) > MAX_BRACE_WORDS:
                    raise _TooMany
            tails = _expand_braces(text[end + 1 :], level + 1)
            if len(heads) * len(tails) > MAX_BRACE_WORDS:
                raise _TooMany
            return [text[:i] + h + t for h in heads for t in tails]
        i = text.find("{", i + 1)
    return [text]


def _range_alts(inner: str) -> list[str] | None:
    parts = inner.split("..")
    try:
        lo, hi = int(parts[0]), int(parts[1])
        step = abs(int(parts[2])) if len(parts) > 2 and int(parts[2]) else 1
        if abs(hi - lo) // step + 1 > MAX_BRACE_WORDS:
            return None
        rng = range(lo, hi + 1, step) if lo <= hi else range(lo, hi - 1, -step)
        return [str(x) for x in rng]
    except ValueError:
        if len(parts[0]) == 1 and len(parts[1]) == 1:
            a, b = ord(parts[0]), ord(parts[1])
            rng2 = range(a, b + 1) if a <= b else range(a, b - 1, -1)
            return [chr(x) for x in rng2]
    return ["{" + inner + "}"]


_WORD_NODES = frozenset({
    "word", "string", "raw_string", "ansi_c_string", "concatenation", "simple_expansion",
    "expansion", "command_substitution", "process_substitution", "number", "translated_string",
    "arithmetic_expansion",
})  # fmt: skip


class _TooComplex(Exception):
    pass


@dataclass
class _Scope:
    cwd: str | None
    variables: dict[str, str | None]  # None: assigned, value unknown

    def copy(self) -> _Scope:
        return _Scope(self.cwd, dict(self.variables))


class Walker:
    """Walks one tree-sitter tree into SimpleCommands."""

    def __init__(self, src: bytes, home: str, workspace: str, cwd: str | None,
                 variables: dict[str, str | None] | None = None) -> None:
        self.src = src
        self.home = home
        self.workspace = workspace
        self.commands: list[SimpleCommand] = []
        self.errors: list[str] = []
        self.functions: dict[str, str] = {}
        self.fork_bombs: list[str] = []
        self.tcp_fds: list[int] = []
        self.derived: dict[str, tuple[set[str], set[int]]] = {}
        self.hidden_code: list[str] = []  # text bash runs as code that the tree left as words
        self._conditional = 0  # inside code that may not run (if/case/loops, `||` lists)
        self.scope = _Scope(cwd, dict(variables or {}))
        self._sub_owner: list[int | None] = [None]
        self._func: list[str | None] = [None]

    # -- helpers
    def text(self, node: Any) -> str:
        return str(self.src[node.start_byte : node.end_byte].decode("utf-8", "replace"))

    def _new_id(self) -> int:
        if len(self.commands) >= MAX_COMMANDS:
            raise _TooComplex(f"more than {MAX_COMMANDS} commands")
        return len(self.commands)

    def lookup(self, name: str) -> str | None:
        if name in self.scope.variables:
            return self.scope.variables[name]
        if name == "HOME":
            return self.home
        if name == "PWD":
            return self.scope.cwd
        return None

    # -- entry
    def walk_program(self, root: Any) -> None:
        self._check_errors(root)
        self.stmt(root, 0)

    def _check_errors(self, root: Any) -> None:
        if not root.has_error:
            return
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "ERROR" and self._is_rw_redirect_gap(node):
                continue
            if node.type == "ERROR" or node.is_missing:
                snippet = self.text(node)[:40]
                self.errors.append(
                    f"syntax error near {snippet!r}" if snippet else f"missing {node.type!r}"
                )
                if len(self.errors) >= 5:
                    return
                continue
            if node.has_error:
                stack.extend(node.children)

    @staticmethod
    def _is_rw_redirect_gap(node: Any) -> bool:
        """`N<>file` is valid bash that tree-sitter-bash reads as `<` ERROR(`>`)."""
        parent = node.parent
        return (
            parent is not None
            and parent.type == "file_redirect"
            and node.child_count == 1
            and node.children[0].type == ">"
            and node.prev_sibling is not None
            and node.prev_sibling.type == "<"
        )

    # -- statements
    def stmt(self, node: Any, depth: int) -> list[int]:
        """Walk a statement; return ids of the simple commands whose output is its output."""
        if depth > MAX_DEPTH:
            raise _TooComplex(f"nested more than {MAX_DEPTH} levels deep")
        t = node.type
        if t == "command":
            return [self.command(node, [], depth)]
        if t == "redirected_statement":
            return self.redirected(node, depth)
        if t == "pipeline":
            return self.pipeline(node, depth)
        if t == "list":
            return self.flat_list(node, depth)
        if t in ("program", "compound_statement", "do_group", "else_clause",
                 "elif_clause", "case_item"):
            return self.sequence(node, depth)
        if t == "subshell":
            saved = self.scope
            self.scope = saved.copy()
            try:
                return self.sequence(node, depth + 1)
            finally:
                self.scope = saved
        if t == "negated_command":
            out: list[int] = []
            for child in node.named_children:
                out += self.stmt(child, depth + 1)
            return out
        if t in ("if_statement", "while_statement", "case_statement"):
            return self.control(node, depth)
        if t in ("for_statement", "select_statement"):
            return self.for_loop(node, depth)
        if t == "c_style_for_statement":
            return self.sequence(node, depth)
        if t == "function_definition":
            self.function(node, depth)
            return []
        if t == "variable_assignment":
            self.assignment(node, depth, export=False)
            return []
        if t == "variable_assignments":
            for child in node.named_children:
                self.assignment(child, depth, export=False)
            return []
        if t == "declaration_command":
            return [self.declaration(node, depth)]
        if t == "unset_command":
            return [self.unset(node, depth)]
        if t in ("test_command", "arithmetic_expansion", "binary_expression",
                 "unary_expression", "parenthesized_expression"):
            self.scan_subs(node, depth, None)
            self._arithmetic_values(node)
            return []
        if t in ("comment", "heredoc_body", "heredoc_end", "heredoc_start"):
            return []
        if t == "ERROR":
            # still look inside, so a deny hidden after a syntax error is found
            return self.sequence(node, depth)
        # Unknown node kinds: look for commands inside, conservatively.
        return self.sequence(node, depth)

    def sequence(self, node: Any, depth: int) -> list[int]:
        last: list[int] = []
        children = node.children
        i = 0
        while i < len(children):
            child = children[i]
            if child.is_named:
                nxt = children[i + 1] if i + 1 < len(children) else None
                background = nxt is not None and nxt.type == "&"
                saved = self.scope
                if background:
                    self.scope = saved.copy()  # `cd /tmp &` runs in a subshell: nothing sticks
                last = self.stmt(child, depth + 1)
                self.scope = saved if background else self.scope
                if background:
                    for cid in last:
                        self.commands[cid].background = True
            i += 1
        return last

    def flat_list(self, node: Any, depth: int) -> list[int]:
        """`a && b || c ...`: tree-sitter nests long chains to the left; walk them flat."""
        items: list[Any] = []
        has_or = False
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "list":
                has_or = has_or or any(c.type == "||" for c in current.children)
                stack.extend(reversed(current.named_children))
            else:
                items.append(current)
        last: list[int] = []
        before = self.scope.cwd
        if items:
            last = self.stmt(items[0], depth + 1)  # the first item always runs
        after_first = self.scope.cwd
        self._conditional += 1 if has_or else 0
        try:
            for item in items[1:]:
                last = self.stmt(item, depth + 1)
        finally:
            self._conditional -= 1 if has_or else 0
        # the rest may not have run (`false && cd /tmp`): afterwards we are in either place
        if has_or:
            self.scope.cwd = self._merge_cwd(before, self.scope.cwd)  # `cd x || ...`: either
        else:
            self.scope.cwd = self._merge_cwd(after_first, self.scope.cwd)
        return last

    def control(self, node: Any, depth: int) -> list[int]:
        # condition, branches: every branch is analysed (we cannot know which runs)
        before = self.scope.cwd
        self._conditional += 1
        try:
            return self._control(node, depth)
        finally:
            self._conditional -= 1
            self.scope.cwd = self._merge_cwd(before, self.scope.cwd)

    def _merge_cwd(self, old: str | None, new: str | None) -> str | None:
        """Where we are after code that may or may not have changed directory."""
        if old == new:
            return new
        if old is None or new is None:
            return None
        return new if self._inside(old) and self._inside(new) else None

    def _inside(self, path: str) -> bool:
        roots = (self.workspace, "/tmp", "/var/tmp")
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def _control(self, node: Any, depth: int) -> list[int]:
        out: list[int] = []
        for child in node.named_children:
            if child.type in ("word", "string", "simple_expansion", "expansion",
                              "concatenation", "raw_string", "command_substitution"):
                self.make_word(child, depth)  # case subject: substitutions run
            else:
                out += self.stmt(child, depth + 1)
        return out

    def for_loop(self, node: Any, depth: int) -> list[int]:
        before = self.scope.cwd
        self._conditional += 1
        try:
            return self._for_loop(node, depth)
        finally:
            self._conditional -= 1
            self.scope.cwd = self._merge_cwd(before, self.scope.cwd)

    def _for_loop(self, node: Any, depth: int) -> list[int]:
        var_node = node.child_by_field_name("variable")
        values: list[Word] = []
        body = node.child_by_field_name("body")
        for child in node.children_by_field_name("value"):
            values.extend(self.expand_word(child, depth))
        name = self.text(var_node) if var_node is not None else ""
        literal = [w.value for w in values]
        if body is None:
            return []
        out: list[int] = []
        if name and values and all(v is not None for v in literal) and len(literal) <= 16:
            for value in literal:
                self.scope.variables[name] = value
                out = self.stmt(body, depth + 1)
        else:
            if name:
                self.scope.variables[name] = None
            out = self.stmt(body, depth + 1)
        if name:
            self.scope.variables[name] = None
        return out

    def function(self, node: Any, depth: int) -> None:
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        name = self.text(name_node) if name_node is not None else "?"
        if body is None:
            return
        self.functions[name] = self.text(body)
        self._func.append(name)
        try:
            saved = self.scope
            self.scope = saved.copy()
            self.stmt(body, depth + 1)
            self.scope = saved
        finally:
            self._func.pop()
        # A function that runs itself twice at once (through a pipe or `&`) is a fork bomb.
        calls = [c for c in self.commands if c.function_body == name and c.name is not None
                 and c.name.value == name]
        if calls and (any(c.background for c in calls) or any(c.pipe_to or c.pipe_from for c in calls)):
            self.fork_bombs.append(name)

    def assignment(self, node: Any, depth: int, export: bool) -> tuple[str, Word]:
        """Track `NAME=value` in the scope; return the name and the value as one word."""
        name_node = node.child_by_field_name("name")
        if name_node is not None and name_node.type == "subscript":
            self.scan_subs(name_node, depth, None)  # `a[$(rm -rf ~)]=1` runs the substitution
        value_node = node.child_by_field_name("value")
        name = self.text(name_node) if name_node is not None else ""
        words: list[Word] = []
        if value_node is None:
            value: str | None = ""
        else:
            words = self.expand_word(value_node, depth)
            value = words[0].value if len(words) == 1 else None
            if value_node.type == "array":
                value = None
        if "[" in name or name.endswith("+"):
            name = name.split("[")[0].rstrip("+")
            value = None
        if node.child_count >= 2 and node.children[1].type == "+=":
            value = None
        if value is not None and len(value) > MAX_VALUE:
            value = None  # `X=$X$X` doubling: past a bound the value is just unknown
        if name:
            self.scope.variables[name] = value
            if value_node is not None:
                refs = {v for w in words for v in w.variables}
                subs = {i for w in words for i in w.subs}
                if refs or subs:
                    old_refs, old_subs = self.derived.get(name, (set(), set()))
                    self.derived[name] = (old_refs | refs, old_subs | subs)
        joined = Word([value], self.text(value_node) if value_node is not None else "",
                      subs=[i for w in words for i in w.subs],
                      variables=[v for w in words for v in w.variables])
        return name, joined

    def declaration(self, node: Any, depth: int) -> int:
        """export/declare/local/readonly/typeset: assignments, and a command for the policy."""
        words: list[Word] = [Word.literal(node.children[0].type)]
        assignments: list[tuple[str, Word]] = []
        nameref = any(c.type == "word" and re.fullmatch(r"[-+][A-Za-z]*n[A-Za-z]*", self.text(c))
                      for c in node.named_children)
        for child in node.named_children:
            if child.type == "variable_assignment":
                assignments.append(self.assignment(child, depth, export=True))
                words.append(Word.literal(self.text(child)))
                if nameref:
                    self._nameref(*assignments[-1])
            elif child.type == "variable_name":
                words.append(Word.literal(self.text(child)))
            else:
                words.extend(self.expand_word(child, depth))
        return self._add(words, assignments, [], node)

    def _nameref(self, name: str, target: Word) -> None:
        """`declare -n r=X`: $r is X from now on (its value, and where that value came from)."""
        other = target.value
        if other is None or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", other):
            self.scope.variables[name] = None
            return
        self.scope.variables[name] = self.lookup(other)
        refs, subs = self.derived.get(other, (set(), set()))
        self.derived[name] = (refs | {other}, set(subs))

    def unset(self, node: Any, depth: int) -> int:
        words: list[Word] = [Word.literal("unset")]
        for child in node.named_children:
            words.extend(self.expand_word(child, depth))
            self.scope.variables.pop(self.text(child), None)
        return self._add(words, [], [], node)

    # -- pipelines and redirections
    def pipeline(self, node: Any, depth: int) -> list[int]:
        stages: list[list[int]] = []
        saved = self.scope
        for child in node.named_children:
            self.scope = saved.copy()  # each stage runs in a subshell
            first = len(self.commands)
            self.stmt(child, depth + 1)
            stages.append(self._top_level_ids(first))
        self.scope = saved
        for i in range(1, len(stages)):
            upstream = [cid for stage in stages[:i] for cid in stage]
            for cid in stages[i]:
                cmd = self.commands[cid]
                cmd.pipe_from = sorted(set(cmd.pipe_from) | set(upstream))
            for cid in stages[i - 1]:
                self.commands[cid].pipe_to = sorted(set(self.commands[cid].pipe_to) | set(stages[i]))
        return stages[-1] if stages else []

    def _top_level_ids(self, first: int) -> list[int]:
        """Commands added since `first` that are not inside a substitution of one of them."""
        return [c.id for c in self.commands[first:] if c.in_sub_of is None or c.in_sub_of < first]

    def redirected(self, node: Any, depth: int) -> list[int]:
        body = node.child_by_field_name("body")
        first = len(self.commands)
        redirects: list[Redirect] = []
        trailing_pipelines: list[Any] = []
        extra_words: list[Word] = []
        # Redirect targets are expanded before the command runs.
        for child in node.children:
            if child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                redirects.append(self.redirect(child, depth))
                if child.type == "heredoc_redirect":
                    # tree-sitter puts what follows `<<EOF` on the line inside the here-doc
                    # node: more redirections (`>> ~/.bashrc`), more arguments, a pipeline
                    for inner in child.named_children:
                        if inner.type in ("pipeline", "list", "command", "redirected_statement"):
                            trailing_pipelines.append(inner)
                        elif inner.type in ("file_redirect", "herestring_redirect"):
                            redirects.append(self.redirect(inner, depth))
                        elif inner.type in _WORD_NODES:
                            extra_words.extend(self.expand_word(inner, depth))
        outs = self.stmt(body, depth + 1) if body is not None else []
        if body is None:
            # a bare redirection (`> file`) truncates or creates the file
            outs = [self._add([], [], [], node)]
        targets = outs or self._top_level_ids(first)[-1:]
        for cid in targets:
            self.commands[cid].redirects.extend(redirects)
            self.commands[cid].words.extend(extra_words)
            self._link_output_subs(cid, [r.target for r in redirects if r.target is not None])
        for extra in trailing_pipelines:
            # `cat <<EOF | sh` is read by tree-sitter as a pipeline inside the here-doc.
            outs = self._continue_pipeline(targets, extra, depth)
        return outs

    def _continue_pipeline(self, upstream: list[int], node: Any, depth: int) -> list[int]:
        ops = [c for c in node.children if not c.is_named]
        parts = [c for c in node.named_children]
        if node.type != "pipeline":
            first = len(self.commands)
            self.stmt(node, depth + 1)
            return self._top_level_ids(first)
        prev = upstream
        last: list[int] = prev
        for part in parts:
            first = len(self.commands)
            saved = self.scope
            self.scope = saved.copy()
            self.stmt(part, depth + 1)
            self.scope = saved
            stage = self._top_level_ids(first)
            for cid in stage:
                self.commands[cid].pipe_from = sorted(set(self.commands[cid].pipe_from) | set(prev))
            for cid in prev:
                self.commands[cid].pipe_to = sorted(set(self.commands[cid].pipe_to) | set(stage))
            prev = prev + stage
            last = stage
        del ops
        return last

    def redirect(self, node: Any, depth: int) -> Redirect:
        fd: int | None = None
        op = ""
        target: Word | None = None
        text: str | None = None
        body_known = True
        if node.type == "heredoc_redirect":
            start = None
            subs: list[int] = []
            variables: list[str] = []
            for child in node.children:
                if child.type == "heredoc_start":
                    start = self.text(child)
                elif child.type == "heredoc_body":
                    quoted_delim = start is not None and any(q in start for q in "'\"\\")
                    if quoted_delim:
                        text = self.text(child)
                    else:
                        word = self._heredoc_word(child, depth)
                        text = word.value
                        body_known = word.known
                        subs, variables = word.subs, word.variables
                        if text is None:
                            text = "".join(p or "" for p in word.parts)
            return Redirect("<<", 0, None, text if text is not None else "", body_known, subs, variables)
        if node.type == "herestring_redirect":
            for child in node.named_children:
                word = self.make_word(child, depth)
                return Redirect("<<<", 0, None, word.value, word.known, word.subs, word.variables)
            return Redirect("<<<", 0, None, "", True)
        seen_lt = False
        for child in node.children:
            if child.type == "file_descriptor":
                try:
                    fd = int(self.text(child))
                except ValueError:
                    fd = None
            elif not child.is_named:
                op += child.type
                seen_lt = seen_lt or child.type == "<"
            elif child.type == "ERROR":
                op += self.text(child).strip()
            elif target is None:
                target = self.make_word(child, depth)
        if op == "<>" or (seen_lt and op.endswith(">")):
            op = "<>"
        red = Redirect(op or ">", fd, target)
        if target is not None and target.value and re.match(r"/dev/(tcp|udp)/", target.value):
            self.tcp_fds.append(fd if fd is not None else (0 if op.startswith("<") else 1))
        return red

    def _heredoc_word(self, body: Any, depth: int) -> Word:
        parts: list[str | None] = []
        word = Word(parts, self.text(body))
        cursor = body.start_byte
        for child in body.named_children:
            if child.start_byte > cursor:
                parts.append(_unescape_double(self.src[cursor:child.start_byte].decode("utf-8", "replace")))
            if child.type == "heredoc_content":
                parts.append(_unescape_double(self.text(child)))
            else:
                self._expansion_part(child, depth, word)
            cursor = child.end_byte
        if body.end_byte > cursor:
            parts.append(_unescape_double(self.src[cursor:body.end_byte].decode("utf-8", "replace")))
        return word

    # -- commands
    def command(self, node: Any, extra_redirects: list[Redirect], depth: int) -> int:
        assignments: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects = list(extra_redirects)
        pending_id = len(self.commands)
        self._sub_owner.append(pending_id)
        try:
            for child in node.named_children:
                t = child.type
                if t == "variable_assignment":
                    name_node = child.child_by_field_name("name")
                    value_node = child.child_by_field_name("value")
                    value = self.make_word(value_node, depth) if value_node is not None else Word.literal("")
                    assignments.append((self.text(name_node) if name_node else "", value))
                elif t == "command_name":
                    for sub in child.named_children:
                        words.extend(self.expand_word(sub, depth))
                    if not child.named_children:
                        words.append(Word.literal(self.text(child)))
                elif t in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                    redirects.append(self.redirect(child, depth))
                elif t == "subscript":
                    self.scan_subs(child, depth, None)  # `a[$(cmd)]=1`: the index is evaluated
                else:
                    words.extend(self.expand_word(child, depth))
        finally:
            self._sub_owner.pop()
        cid = self._add(words, assignments, redirects, node, reserved=pending_id)
        self._track_cd(self.commands[cid])
        self._track_read(self.commands[cid])
        return cid

    def _track_read(self, cmd: SimpleCommand) -> None:
        """`read X < .env`: X now holds data from what this command read."""
        if not cmd.words or cmd.words[0].value not in ("read", "mapfile", "readarray"):
            return
        for word in cmd.words[1:]:
            name = word.value or ""
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                self.scope.variables[name] = None
                refs, subs = self.derived.get(name, (set(), set()))
                self.derived[name] = (refs, subs | {cmd.id})

    def _add(self, words: list[Word], assignments: list[tuple[str, Word]],
             redirects: list[Redirect], node: Any, reserved: int | None = None) -> int:
        cid = self._new_id()
        cmd = SimpleCommand(
            id=cid,
            words=words,
            assignments=assignments,
            redirects=redirects,
            cwd=self.scope.cwd,
            text=self.text(node)[:400],
            in_sub_of=self._sub_owner[-1],
            function_body=self._func[-1],
        )
        if reserved is not None and reserved != cid:
            # substitutions inside this command were added first; point them at us
            for other in self.commands[reserved:]:
                if other.in_sub_of == reserved:
                    other.in_sub_of = cid
        self.commands.append(cmd)
        for word in words:
            for sid in word.subs:
                if self.commands[sid].in_sub_of in (None, reserved):
                    self.commands[sid].in_sub_of = cid
        self._link_output_subs(cid, [*words, *(r.target for r in redirects if r.target is not None)])
        return cid

    def _link_output_subs(self, cid: int, words: list[Word]) -> None:
        """`tee >(sh)`, `cmd > >(sh)`: the command inside reads this one's output."""
        cmd = self.commands[cid]
        for word in words:
            if word.process_sub == ">":
                for sid in word.subs:
                    self.commands[sid].pipe_from = sorted(set(self.commands[sid].pipe_from) | {cid})
                    cmd.pipe_to = sorted(set(cmd.pipe_to) | {sid})

    def _track_cd(self, cmd: SimpleCommand) -> None:
        words = cmd.words
        while words and words[0].value in ("builtin", "command"):
            words = words[1:]  # `builtin cd /`
        if words and words[0].value in self.functions and re.search(
            r"\b(cd|pushd|popd)\b", self.functions[words[0].value]
        ):
            self.scope.cwd = None  # a function that changes directory: where we are is unknown
            return
        if not words or words[0].value not in ("cd", "pushd", "popd"):
            return
        name = words[0].value
        args = [w for w in words[1:] if not (w.value or "").startswith("-") or w.value == "-"]
        if name == "popd" or (args and args[0].value == "-"):
            self.scope.cwd = None
            return
        if not args:
            self.scope.cwd = self.home if name == "cd" else None
            return
        target = args[0].value
        if target is None:
            self.scope.cwd = None
            return
        from guardrail.parsers.paths import normalise

        base = self.scope.cwd
        if base is None and not target.startswith(("/", "~")):
            return
        cdpath = "CDPATH" in self.scope.variables or any(n == "CDPATH" for n, _ in cmd.assignments)
        if cdpath and not target.startswith(("/", "~", ".")):
            self.scope.cwd = None  # CDPATH may send a relative `cd` anywhere
            return
        new: str | None = normalise(target, base or self.workspace, self.home)
        if self._conditional or not os.path.isdir(new or ""):
            # a cd that may not run, or may fail (its target does not exist yet): either place
            new = self._merge_cwd(base, new) if base is not None else None
        self.scope.cwd = new

    # -- words
    def expand_word(self, node: Any, depth: int) -> list[Word]:
        """A word node -> one or more words (brace expansion)."""
        word = self.make_word(node, depth)
        unknown = Word([None], word.raw, subs=word.subs, variables=word.variables)
        if word.unquoted_expansion and "IFS" in self.scope.variables:
            return [unknown]  # a changed IFS splits expansions where we cannot follow
        braces = "{" in word.unquoted and ("," in word.unquoted or ".." in word.unquoted)
        if braces and not word.known:
            return [unknown]  # bash expands braces first: `{/et${X}c,x}` may be anything
        if word.split and word.known and not word.quoted:
            fields = (word.value or "").split()
            if len(fields) > MAX_BRACE_WORDS:
                return [unknown]
            return [Word([f], word.raw, subs=word.subs, variables=word.variables) for f in fields]
        if word.known and braces:
            values = brace_expand(word.value or "")
            if values is None:
                return [unknown]
            if len(values) > 1:
                return [Word([v], word.raw, glob=word.glob, subs=word.subs,
                             variables=word.variables, tilde=v.startswith("~"))
                        for v in values]
        return [word]

    def make_word(self, node: Any, depth: int) -> Word:
        if depth > MAX_DEPTH:
            raise _TooComplex(f"nested more than {MAX_DEPTH} levels deep")
        word = Word([], self.text(node))
        self._word_part(node, depth, word, top=True)
        if not word.parts:
            word.parts.append("")
        return word

    def _word_part(self, node: Any, depth: int, word: Word, top: bool = False) -> None:
        t = node.type
        if t in ("word", "number", "variable_name", "test_operator", "regex", "extglob_pattern"):
            text = self.text(node)
            if top and not word.parts and text.startswith("~") and not word.quoted:
                word.tilde = True
                head, sep, rest = text.partition("/")
                if head in ("~+", "~-"):
                    # ~+ is $PWD; ~- is $OLDPWD, which we do not track
                    base = self.scope.cwd if head == "~+" else None
                    if base is None:
                        word.parts.append(None)
                        return
                    text = base + sep + rest
                elif head == "~":
                    text = self.home + sep + rest
                elif head[1:].replace("-", "").replace("_", "").isalnum():
                    text = ("/root" if head == "~root" else "/home/" + head[1:]) + sep + rest
            value, glob = _unescape_unquoted(text)
            word.glob = word.glob or glob
            word.parts.append(value)
            word.unquoted += value
        elif t == "raw_string":
            word.quoted = True
            word.parts.append(self.text(node)[1:-1])
        elif t == "ansi_c_string":
            word.quoted = True
            word.parts.append(decode_ansi_c(self.text(node)[2:-1]))
        elif t in ("string", "translated_string"):
            word.quoted = True
            inner = node.children
            cursor = None
            for child in inner:
                if not child.is_named:
                    if child.type not in ('"', '$"'):
                        word.parts.append(child.type)
                    cursor = child.end_byte
                    continue
                if cursor is not None and child.start_byte > cursor:
                    word.parts.append(self.src[cursor:child.start_byte].decode("utf-8", "replace"))
                if child.type == "string_content":
                    word.parts.append(_unescape_double(self.text(child)))
                else:
                    self._expansion_part(child, depth, word)
                cursor = child.end_byte
        elif t == "concatenation":
            for child in node.children:
                if child.is_named:
                    self._word_part(child, depth, word, top=top and not word.parts)
                else:
                    value, glob = _unescape_unquoted(child.type)
                    word.parts.append(value)
                    word.unquoted += value
        else:
            before = len(word.parts)
            word.unquoted_expansion = True
            self._expansion_part(node, depth, word)
            added = word.parts[before:]
            if any(p is not None and any(c in p for c in " \t\n") for p in added):
                word.split = True  # an unquoted expansion with spaces: the shell splits it

    def _expansion_part(self, node: Any, depth: int, word: Word) -> None:
        t = node.type
        if t == "simple_expansion":
            name = self.text(node)[1:]
            word.variables.append(name)
            word.parts.append(self.lookup(name))
        elif t == "expansion":
            self._braced_expansion(node, depth, word)
        elif t == "command_substitution" and self._looks_arithmetic(node):
            # `$((6*7))` in a here-doc: tree-sitter reads a subshell; bash does arithmetic
            self.scan_subs(node, depth, word)
            word.parts.append(None)
        elif t in ("command_substitution", "process_substitution"):
            owner = self._sub_owner[-1]
            first = len(self.commands)
            saved = self.scope
            self.scope = saved.copy()
            self._sub_owner.append(owner)
            try:
                for child in node.named_children:
                    if child.type == "file_redirect":
                        # `$(< file)` is the file's content: a read with no command
                        self._add([], [], [self.redirect(child, depth)], child)
                    else:
                        self.stmt(child, depth + 1)
            finally:
                self._sub_owner.pop()
                self.scope = saved
            ids = [c.id for c in self.commands[first:]]
            word.subs.extend(ids)
            if t == "process_substitution":
                word.process_sub = self.text(node)[0]
                word.parts.append(None)
            elif self._is_pwd(ids):
                word.parts.append(self.scope.cwd)  # $(pwd) is the working directory
            else:
                word.parts.append(None)
        elif t == "arithmetic_expansion":
            self.scan_subs(node, depth, word)
            word.parts.append(None)
        elif t in ("string", "raw_string", "ansi_c_string", "word", "concatenation", "number"):
            self._word_part(node, depth, word)
        elif t == "brace_expression":
            word.parts.append(self.text(node))
        else:
            self.scan_subs(node, depth, word)
            word.parts.append(None)

    def _looks_arithmetic(self, node: Any) -> bool:
        text = self.text(node)
        return text.startswith("$((") and text.endswith("))") and "\n" not in text and ";" not in text

    def _arithmetic_values(self, node: Any) -> None:
        """`x='a[$(cmd)]'; [[ $x -eq 1 ]]`: arithmetic evaluates a variable's text, index included."""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type in ("simple_expansion", "expansion", "variable_name"):
                name = self.text(current).lstrip("${").rstrip("}")
                value = self.lookup(name) if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else None
                if value and "[" in value and ("$(" in value or "`" in value):
                    self.hidden_code.append(value)
            stack.extend(current.named_children)

    def _is_pwd(self, ids: list[int]) -> bool:
        if len(ids) != 1:
            return False
        cmd = self.commands[ids[0]]
        values = [w.value for w in cmd.words]
        return (bool(values) and values[0] == "pwd" and all(v in ("-L", "-P") for v in values[1:])
                and not cmd.redirects)

    def _braced_expansion(self, node: Any, depth: int, word: Word) -> None:
        text = self.text(node)
        if "`" in text or "$(" in text:
            # `${x:-`cmd`}`: a substitution tree-sitter leaves in a plain word still runs
            for child in node.named_children:
                inner = self.text(child)
                if child.type == "word" and ("`" in inner or "$(" in inner):
                    self.hidden_code.append(inner)
        m = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])\}", text)
        if m:
            word.variables.append(m.group(1))
            word.parts.append(self.lookup(m.group(1)))
            return
        m = re.match(r"\$\{([#!]?)([A-Za-z_][A-Za-z0-9_]*)", text)
        if m:
            word.variables.append(m.group(2))
            target = self.lookup(m.group(2)) if m.group(1) == "!" else None
            if target and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", target):
                word.variables.append(target)  # `${!v}`: the variable v names
        self.scan_subs(node, depth, word)
        word.parts.append(None)

    def scan_subs(self, node: Any, depth: int, word: Word | None) -> None:
        """Walk substitutions nested anywhere under `node` (they run)."""
        stack = list(node.named_children)
        while stack:
            child = stack.pop()
            if child.type in ("command_substitution", "process_substitution"):
                tmp = word if word is not None else Word([], "")
                self._expansion_part(child, depth + 1, tmp)
            elif child.type in ("simple_expansion", "expansion") and word is not None:
                name = self.text(child).lstrip("${#!").split("}")[0].split(":")[0]
                word.variables.append(name)
            else:
                stack.extend(child.named_children)


# Every byte of a multi-byte UTF-8 character becomes an ASCII letter for the parser.
# To the shell such characters are only ever part of a word, so the tree is the same,
# and byte offsets still index the original text; but tree-sitter-bash's scanner has
# been seen to crash the process on some astral-plane characters (`{\U0007e2f3 ...`).
_PARSE_BYTES = bytes(range(128)) + b"A" * 128


def join_continuations(text: str) -> str:
    """Remove backslash-newline outside single quotes, as bash does before splitting words
    (`r\\<newline>m -rf /` is `rm -rf /`)."""
    if "\\\n" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    in_single = False
    while i < n:
        ch = text[i]
        if in_single:
            out.append(ch)
            if ch == "'":
                in_single = False
            i += 1
            continue
        if ch == "'" :
            in_single = True
        elif ch == "\\" and i + 1 < n:
            if text[i + 1] == "\n":
                i += 2
                continue
            out.append(text[i : i + 2])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_line(command: str, *, home: str, workspace: str, cwd: str | None,
               variables: dict[str, str | None] | None = None) -> ParsedLine:
    """Split a line into simple commands; never raises."""
    command = join_continuations(command)
    src = command.encode("utf-8", "surrogatepass")
    walker = Walker(src, home, workspace, cwd, variables)
    too_complex: str | None = None
    try:
        tree = _parser().parse(src.translate(_PARSE_BYTES))
        walker.walk_program(tree.root_node)
    except _TooComplex as exc:
        too_complex = str(exc)
    except RecursionError:
        too_complex = "nested too deeply"
    return ParsedLine(walker.commands, walker.errors, too_complex, walker.functions,
                      walker.fork_bombs, walker.tcp_fds, walker.derived, walker.hidden_code)


def iter_words(cmd: SimpleCommand) -> Iterator[Word]:
    yield from cmd.words
    for _, value in cmd.assignments:
        yield value
    for red in cmd.redirects:
        if red.target is not None:
            yield red.target
