"""A second opinion from bashlex on which commands a line runs.

Parser-differential bypasses hide a command where one parser sees it and
another does not. With `parsers: {cross_check: true}` in the policy and the
`bashlex` extra installed, every shell line is also parsed with bashlex and
the names of the commands it would run are compared with tree-sitter's; a
difference becomes a `parser_disagreement` effect (ask by default).

bashlex rejects much valid bash (`[[ ]]`, `case`, arithmetic): a line it
cannot parse gives no opinion rather than a disagreement, since tree-sitter
has already decided such lines and an error there is itself an ask.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from guardrail.parsers.shell import parse_line


def _bashlex_names(line: str) -> Counter[str] | None:
    try:
        import bashlex
    except ImportError:
        return None
    try:
        trees = bashlex.parse(line)
    except Exception:
        return None
    names: Counter[str] = Counter()

    class Visitor(bashlex.ast.nodevisitor):  # type: ignore[misc,name-defined]
        def visitcommand(self, node: Any, parts: Any) -> None:
            for part in parts:
                if part.kind == "word":
                    names[_norm(part.word)] += 1
                    break
                if part.kind not in ("assignment", "redirect"):
                    break

    for tree in trees:
        Visitor().visit(tree)
    return names


def _norm(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _tree_sitter_names(line: str) -> Counter[str]:
    parsed = parse_line(line, home="/", workspace="/", cwd="/")
    names: Counter[str] = Counter()
    for cmd in parsed.commands:
        if cmd.words:
            head = cmd.words[0]
            names[_norm(head.value if head.value is not None else head.raw)] += 1
    return names


def disagreement(line: str) -> str | None:
    """A description of how the two parsers differ, or None when they agree (or bashlex abstains)."""
    other = _bashlex_names(line)
    if other is None:
        return None
    ours = _tree_sitter_names(line)
    if set(ours) == set(other):
        return None
    only_ours = sorted(set(ours) - set(other))
    only_theirs = sorted(set(other) - set(ours))
    return (f"the shell parsers disagree on what runs: tree-sitter alone sees {only_ours or 'nothing more'}, "
            f"bashlex alone sees {only_theirs or 'nothing more'}")
