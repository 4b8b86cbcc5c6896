"""A policy file read from YAML with the line and column of every node.

PyYAML's composer gives nodes with marks; we build plain dicts and lists from
them ourselves and keep a side table of positions keyed by the path of each
node (`("rules", 3, "match", "op")`), so any later error — pydantic's, the
compiler's, a failing example — can name file:line:col. Duplicate keys, which
YAML silently collapses, are errors here: in a policy they are typos.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from guardrail.errors import PolicyError

Loc = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line, column
MAX_NODES = 200_000  # aliases can multiply a small file into a huge tree ("billion laughs")

_STR_TAG = "tag:yaml.org,2002:str"
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class SourceFile:
    """One policy file: its data, and where each node of it was written."""

    path: str
    data: Any
    values: dict[Loc, Position] = field(default_factory=dict)  # where each value starts
    keys: dict[Loc, Position] = field(default_factory=dict)  # where the key leading to it starts

    def position(self, loc: Loc, *, key: bool = False) -> Position | None:
        """The position of `loc`, or of its nearest ancestor that exists."""
        if key and loc in self.keys:
            return self.keys[loc]
        while loc:
            if loc in self.values:
                return self.values[loc]
            loc = loc[:-1]
        return self.values.get(())

    def rule_id(self, loc: Loc) -> str | None:
        """The id of the rule `loc` lies in, if it lies in one that has an id."""
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rules = self.data.get("rules") if isinstance(self.data, dict) else None
            if isinstance(rules, list) and 0 <= loc[1] < len(rules):
                rule = rules[loc[1]]
                if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                    return str(rule["id"])
        return None

    def error(
        self, message: str, loc: Loc, *, key: bool = False, cls: type[PolicyError] = PolicyError
    ) -> PolicyError:
        line, col = self.position(loc, key=key) or (None, None)
        return cls(message, path=self.path, line=line, col=col, rule=self.rule_id(loc))


def _mark(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: SourceFile) -> None:
        self.loader = loader
        self.source = source
        self.errors: list[PolicyError] = []
        self.count = 0

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.source.error(
                f"the file has more than {MAX_NODES} nodes (alias expansion?)", loc
            )
        self.source.values[loc] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        if node.tag == _STR_TAG:  # most scalars: skip the constructor's machinery
            return node.value
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # `<<: *anchor` merge keys
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(self._at("a key must be a plain string", key_node))
                continue
            key = str(key_node.value)
            if key in result:
                first = self.source.keys[(*loc, key)]
                self.errors.append(
                    self._at(
                        f"duplicate key {key!r} (first written at line {first[0]}); keep one",
                        key_node,
                    )
                )
                continue
            self.source.keys[(*loc, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*loc, key))
        return result

    def _at(self, message: str, node: yaml.Node) -> PolicyError:
        line, col = _mark(node)
        return PolicyError(message, path=self.source.path, line=line, col=col)


def read_source(
    path: Path, text: bytes, display: str | None = None
) -> tuple[SourceFile, list[PolicyError]]:
    """Parse one file; a YAML syntax error is returned as a located error, not raised."""
    source = SourceFile(display or str(path), None)
    try:
        decoded = text.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return source, [
            PolicyError(
                f"the file is not UTF-8 ({exc.reason} at byte {exc.start})", path=source.path
            )
        ]
    loader = _Loader(decoded)
    try:
        node = loader.get_single_node()
        if node is None:
            return source, [
                PolicyError(
                    "the file is empty; a policy starts with `version: 1`", path=source.path
                )
            ]
        builder = _Builder(loader, source)
        source.data = builder.build(node, ())
        return source, builder.errors
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        problem = exc.problem or exc.context or "not valid YAML"
        return source, [
            PolicyError(f"YAML syntax: {problem}", path=source.path, line=line, col=col)
        ]
    except yaml.YAMLError as exc:
        return source, [PolicyError(f"YAML: {exc}", path=source.path)]
    except PolicyError as exc:
        return source, [exc]
    finally:
        loader.dispose()
