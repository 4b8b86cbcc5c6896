"""Shell found in a repository: each snippet with the file and line it starts on.

Sources: `*.sh`/`*.bash` files (and files with a sh/bash shebang), Makefile
recipe lines, Dockerfile `RUN`, GitHub Actions `run:` steps, `package.json`
scripts and local `.pre-commit-config.yaml` hook entries. Template syntax
that is not shell (`${{ matrix.x }}`, make's `$(VAR)`) is replaced by a plain
word so that it does not read as a substitution; make variables defined in
the Makefile are expanded.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", ".tox", ".nox", "dist", "build", ".pytest_ws", ".hypothesis"}
)
_SHEBANG = re.compile(rb"^#!\s*(/usr/bin/env\s+)?(/\S*/)?(ba|da|k|z)?sh\b")
_GH_EXPR = re.compile(r"\$\{\{.*?\}\}")
_MAKE_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Snippet:
    path: str
    line: int  # 1-based line of the snippet's first line in the file
    text: str
    kind: str  # script, make, docker, actions, npm, pre-commit


def iter_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath) / name


def snippets(path: Path, shown: str) -> Iterator[Snippet]:
    name = path.name
    try:
        if name.endswith((".sh", ".bash")) or (not path.suffix and _is_shell_script(path)):
            yield Snippet(shown, 1, path.read_text("utf-8", errors="replace"), "script")
        elif name in ("Makefile", "makefile", "GNUmakefile") or name.endswith(".mk"):
            yield from _makefile(path.read_text("utf-8", errors="replace"), shown)
        elif name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".dockerfile"):
            yield from _dockerfile(path.read_text("utf-8", errors="replace"), shown)
        elif name.endswith((".yml", ".yaml")) and path.parent.name == "workflows" and path.parent.parent.name == ".github":
            yield from _actions(path.read_text("utf-8", errors="replace"), shown)
        elif name == "package.json":
            yield from _package_json(path.read_text("utf-8", errors="replace"), shown)
        elif name == ".pre-commit-config.yaml":
            yield from _pre_commit(path.read_text("utf-8", errors="replace"), shown)
    except OSError:
        return


def _is_shell_script(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return bool(_SHEBANG.match(handle.read(64)))
    except OSError:
        return False


def _logical_lines(lines: list[str], start: int) -> Iterator[tuple[int, str]]:
    """Join backslash continuations: (first line number, joined text)."""
    buffer: list[str] = []
    first = start
    for offset, line in enumerate(lines):
        if not buffer:
            first = start + offset
        if line.rstrip().endswith("\\"):
            buffer.append(line.rstrip()[:-1])
            continue
        buffer.append(line)
        yield first, " ".join(part.strip() for part in buffer)
        buffer = []
    if buffer:
        yield first, " ".join(part.strip() for part in buffer)


def _makefile(text: str, shown: str) -> Iterator[Snippet]:
    lines = text.splitlines()
    variables: dict[str, str] = {}
    for line in lines:
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*[:?]?=\s*(.*)$", line)
        if match:
            variables[match.group(1)] = match.group(2).strip()

    def expand(command: str) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            return variables.get(name, "make-" + name.lower())

        for _ in range(3):
            command = _MAKE_VAR.sub(one, command)
        return command.replace("$$", "$")

    in_recipe = False
    recipe: list[str] = []
    recipe_start = 0
    for number, line in enumerate(lines, start=1):
        if line.startswith("\t"):
            if in_recipe:
                if not recipe:
                    recipe_start = number
                recipe.append(line[1:])
            continue
        if recipe:
            yield from _recipe_lines(recipe, recipe_start, shown, expand)
            recipe = []
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            in_recipe = bool(re.match(r"^[^=\s#][^=]*:(?!=)", line))
    if recipe:
        yield from _recipe_lines(recipe, recipe_start, shown, expand)


def _recipe_lines(recipe: list[str], start: int, shown: str, expand: Any) -> Iterator[Snippet]:
    for number, command in _logical_lines(recipe, start):
        command = command.lstrip("@-+ ").strip()
        if command and not command.startswith("#"):
            yield Snippet(shown, number, expand(command), "make")


def _dockerfile(text: str, shown: str) -> Iterator[Snippet]:
    for number, line in _logical_lines(text.splitlines(), 1):
        match = re.match(r"^\s*RUN\s+(.*)$", line, re.IGNORECASE)
        if not match:
            continue
        body = re.sub(r"^(--\S+\s+)+", "", match.group(1).strip())
        if body.startswith("["):
            try:
                words = json.loads(body)
                import shlex

                body = " ".join(shlex.quote(str(w)) for w in words)
            except ValueError:
                pass
        if body:
            yield Snippet(shown, number, body, "docker")


def _yaml_nodes(text: str) -> Any:
    import yaml

    try:
        return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None


def _scalar_snippet(node: Any, text: str, shown: str, kind: str) -> Snippet:
    """A YAML scalar's text and the line its content starts on (the line after `|` or `>`)."""
    line = node.start_mark.line + 1
    if node.style in ("|", ">"):
        line += 1
    return Snippet(shown, line, _GH_EXPR.sub("GITHUB_EXPRESSION", str(node.value)), kind)


def _mapping_items(node: Any) -> Iterator[tuple[str, Any]]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                yield str(key.value), value


def _actions(text: str, shown: str) -> Iterator[Snippet]:
    import yaml

    root = _yaml_nodes(text)
    for key, jobs in _mapping_items(root):
        if key != "jobs":
            continue
        for _job, job in _mapping_items(jobs):
            for step_key, steps in _mapping_items(job):
                if step_key != "steps" or not isinstance(steps, yaml.SequenceNode):
                    continue
                for step in steps.value:
                    for field, value in _mapping_items(step):
                        if field == "run" and isinstance(value, yaml.ScalarNode):
                            yield _scalar_snippet(value, text, shown, "actions")


def _package_json(text: str, shown: str) -> Iterator[Snippet]:
    try:
        data = json.loads(text)
    except ValueError:
        return
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return
    lines = text.splitlines()
    for name, command in scripts.items():
        if not isinstance(command, str):
            continue
        needle = json.dumps(name) + ":"
        number = next((i for i, line in enumerate(lines, start=1) if needle in line.replace('" :', '":')), 1)
        yield Snippet(shown, number, command, "npm")


def _pre_commit(text: str, shown: str) -> Iterator[Snippet]:
    import yaml

    root = _yaml_nodes(text)
    for key, repos in _mapping_items(root):
        if key != "repos" or not isinstance(repos, yaml.SequenceNode):
            continue
        for repo in repos.value:
            fields = dict(_mapping_items(repo))
            repo_node = fields.get("repo")
            if not isinstance(repo_node, yaml.ScalarNode) or repo_node.value != "local":
                continue  # a remote hook's entry is defined by its own repository
            hooks = fields.get("hooks")
            for hook in hooks.value if isinstance(hooks, yaml.SequenceNode) else ():
                hook_fields = dict(_mapping_items(hook))
                entry, language = hook_fields.get("entry"), hook_fields.get("language")
                if not isinstance(entry, yaml.ScalarNode):
                    continue
                if isinstance(language, yaml.ScalarNode) and language.value not in ("system", "script", "unsupported", "unsupported_script"):
                    continue
                yield _scalar_snippet(entry, text, shown, "pre-commit")
