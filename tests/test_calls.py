"""The input format: every malformed line is a deny with a reason, never a crash."""

from __future__ import annotations

import json

import pytest

from guardrail.calls import (
    MAX_COMMAND_BYTES,
    FileCall,
    HttpCall,
    ShellCall,
    call_to_dict,
    parse_line,
)
from guardrail.errors import CallError


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('"shell"', "not a JSON object"),
        ("null", "not a JSON object"),
        ('{"tool": "shell", "tool": "file", "command": "ls"}', "duplicate key"),
        ('{"tool": "Shell", "command": "ls"}', "unknown tool"),
        ('{"tool": "exec", "command": "ls"}', "unknown tool"),
        ('{"command": "ls"}', 'missing field "tool"'),
        ('{"tool": "file", "op": "rename", "path": "a"}', "unknown file op"),
        ('{"tool": "db", "query": "SELECT 1", "dialect": "oracle"}', "unknown dialect"),
        ('{"tool": "shell"}', "missing field 'command'"),
        ('{"tool": "file", "op": "move", "path": "a"}', "needs field 'dest'"),
        ('{"tool": "file", "op": "chmod", "path": "a"}', "needs field 'mode'"),
        ('{"tool": "shell", "command": ""}', "is empty"),
        ('{"tool": "file", "op": "read", "path": ""}', "is empty"),
        ('{"tool": "http", "url": ""}', "is empty"),
        ('{"tool": "db", "query": ""}', "is empty"),
        ('{"tool": "shell", "command": 5}', "must be a string"),
        ('{"tool": "shell", "command": ["ls"]}', "must be a string"),
        ('{"tool": "http", "url": "https://x", "headers": []}', "must be an object"),
        ('{"tool": "http", "url": "https://x", "headers": {"a": 1}}', "must be a string"),
        ('{"tool": "shell", "command": "ls", "timeout": 5}', "unknown field"),
        ('{"tool": "shell", "command": "ls\\u0000"}', "NUL byte"),
        ('{"tool": "file", "op": "read", "path": "\\ud800"}', "lone surrogate"),
        ('{"tool": "http", "url": "https://x", "method": "GE T"}', "not an HTTP method"),
        ('{"tool": "shell", "command": true}', "must be a string"),
    ],
)
def test_bad_lines_say_what_is_wrong(line: str, fragment: str) -> None:
    with pytest.raises(CallError) as info:
        parse_line(line)
    assert fragment in str(info.value)


def test_invalid_utf8_and_nul_bytes() -> None:
    with pytest.raises(CallError, match="not UTF-8"):
        parse_line(b'{"tool": "shell", "command": "ls \xff"}')
    with pytest.raises(CallError, match="NUL"):
        parse_line(b'{"tool": "shell", "command": "ls"}\x00')


def test_command_size_limit_counts_utf8_bytes() -> None:
    ok = "x" * MAX_COMMAND_BYTES
    assert isinstance(parse_line(json.dumps({"tool": "shell", "command": ok})), ShellCall)
    with pytest.raises(CallError, match="longer than"):
        parse_line(json.dumps({"tool": "shell", "command": ok + "x"}))
    wide = "é" * (MAX_COMMAND_BYTES // 2 + 1)  # 2 bytes each in UTF-8
    with pytest.raises(CallError, match="longer than"):
        parse_line(json.dumps({"tool": "shell", "command": wide}))


def test_bom_is_ignored_and_defaults_apply() -> None:
    call = parse_line('\ufeff{"tool": "http", "url": "https://pypi.org/", "method": "head"}')
    assert isinstance(call, HttpCall)
    assert call.method == "HEAD"
    assert parse_line(b'\xef\xbb\xbf{"tool": "shell", "command": "ls"}') == ShellCall("ls")
    assert parse_line('{"tool": "http", "url": "https://x"}') == HttpCall("https://x")


def test_round_trip() -> None:
    call = parse_line('{"tool": "file", "op": "copy", "path": "a", "dest": "b"}')
    assert isinstance(call, FileCall)
    assert call_to_dict(call) == {"tool": "file", "op": "copy", "path": "a", "dest": "b"}
