"""Shipped mappings of the MCP reference servers, used after a policy's own.

Each downstream tool is described by what it really does on the machine, so
the one policy decides it: the filesystem server's `write_file` is a file
write, the git server's `git_diff` the `git diff` it runs (arguments
shell-quoted, so an option smuggled into `target` is seen as the option it
becomes), the sqlite server's `describe_table` the very PRAGMA it formats.
Plain Python data: the hook path reads it without a YAML parser.
"""

from __future__ import annotations

from typing import Any


def _git(tool: str, command: str, description: str) -> dict[str, Any]:
    return {"tool": tool, "calls": [{"tool": "shell", "command": command}], "description": description}


def _file(tool: str, op: str, description: str, **fields: str) -> dict[str, Any]:
    call: dict[str, Any] = {"tool": "file", "op": op, "path": "{path}", **fields}
    return {"tool": tool, "calls": [call], "description": description}


def _db(tool: str, query: str, description: str) -> dict[str, Any]:
    return {"tool": tool, "calls": [{"tool": "db", "query": query, "dialect": "sqlite"}], "description": description}


BUILTIN_MAPPINGS: list[dict[str, Any]] = [
    # @modelcontextprotocol/server-filesystem
    _file("read_file", "read", "filesystem: read a file"),
    _file("read_text_file", "read", "filesystem: read a text file"),
    _file("read_media_file", "read", "filesystem: read an image or audio file"),
    _file("get_file_info", "read", "filesystem: stat a file"),
    {"tool": "read_multiple_files", "for_each": "paths",
     "calls": [{"tool": "file", "op": "read", "path": "{item}"}], "description": "filesystem: read files"},
    _file("write_file", "write", "filesystem: write a file", content="{content}"),
    _file("edit_file", "edit", "filesystem: edit a file"),
    _file("create_directory", "write", "filesystem: create a directory"),
    _file("list_directory", "list", "filesystem: list a directory"),
    _file("list_directory_with_sizes", "list", "filesystem: list a directory"),
    _file("directory_tree", "list", "filesystem: list a tree"),
    _file("search_files", "list", "filesystem: search a tree"),
    {"tool": "move_file", "calls": [{"tool": "file", "op": "move", "path": "{source}", "dest": "{destination}"}],
     "description": "filesystem: move a file"},
    # mcp-server-git
    _git("git_status", "git -C {repo_path} status", "git: status"),
    _git("git_diff_unstaged", "git -C {repo_path} diff", "git: unstaged diff"),
    _git("git_diff_staged", "git -C {repo_path} diff --cached", "git: staged diff"),
    _git("git_diff", "git -C {repo_path} diff {target}", "git: diff against a target"),
    _git("git_commit", "git -C {repo_path} commit -m {message}", "git: commit"),
    _git("git_add", "git -C {repo_path} add -- {files}", "git: stage files"),
    _git("git_reset", "git -C {repo_path} reset", "git: unstage everything"),
    _git("git_log", "git -C {repo_path} log", "git: log"),
    _git("git_create_branch", "git -C {repo_path} branch {branch_name} {base_branch}", "git: create a branch"),
    _git("git_checkout", "git -C {repo_path} checkout {branch_name}", "git: switch branch"),
    _git("git_show", "git -C {repo_path} show {revision}", "git: show a revision"),
    _git("git_branch", "git -C {repo_path} branch --list", "git: list branches"),
    _git("git_init", "git init {repo_path}", "git: create a repository"),
    # mcp-server-fetch
    {"tool": "fetch", "calls": [{"tool": "http", "method": "GET", "url": "{url}"}], "description": "fetch: GET a URL"},
    # mcp-server-sqlite (the server formats these queries itself; we decide the same text)
    _db("read_query", "{query}", "sqlite: a read query"),
    _db("write_query", "{query}", "sqlite: a write query"),
    _db("create_table", "{query}", "sqlite: CREATE TABLE"),
    _db("list_tables", "SELECT name FROM sqlite_master WHERE type='table'", "sqlite: list tables"),
    _db("describe_table", "PRAGMA table_info({table_name})", "sqlite: describe a table"),
    # @modelcontextprotocol/server-postgres
    {"tool": "query", "server": "*postgres*", "calls": [{"tool": "db", "query": "{sql}", "dialect": "postgres"}],
     "description": "postgres: a query"},
    # generic shell servers
    *[{"tool": name, "calls": [{"tool": "shell", "command": "{command}", "cwd": "{cwd}"}],
       "description": "shell: run a command"}
      for name in ("run_command", "execute_command", "shell", "bash", "run_shell_command")],
]

BUILTIN_TOOL_RULES: list[dict[str, Any]] = [
    {"id": "mcp-builtin-info", "tool": "list_allowed_directories", "decision": "allow",
     "reason": "filesystem: lists the server's own configuration"},
    {"id": "mcp-builtin-info", "tool": "append_insight", "decision": "allow",
     "reason": "sqlite: adds to the server's in-memory memo"},
]
