"""The predicates: strings, globs, regexes, path globs, hosts, CIDR blocks."""

from __future__ import annotations

import pickle

import pytest

from guardrail.effects import ExecEffect, NetEffect
from guardrail.policy import matchers as m


@pytest.mark.parametrize(
    ("patterns", "text", "expected"),
    [
        (["rm"], "rm", True),
        (["rm"], "rmdir", False),
        (["rm*"], "rmdir", True),
        (["*"], "a/b", True),  # glob `*` crosses "/"
        (["git-?"], "git-x", True),
        (["[ab]x"], "bx", True),
        (["re:^py(thon)?3?$"], "python3", True),
        (["re:^py(thon)?3?$"], "pypy", False),
        (["re:tok"], "a_token", True),  # searched, not full match
        (["*", "!rm"], "rm", False),
        (["*", "!rm"], "ls", True),
        (["!rm"], "ls", False),  # exclusions alone match nothing
        (["*", "!re:^r"], "rmdir", False),
    ],
)
def test_strings(patterns: list[str], text: str, expected: bool) -> None:
    assert m.strings(patterns).matches(text) is expected


def test_strings_case_handling() -> None:
    assert m.strings(["post", "pu*"], case="upper").matches("POST")
    assert m.strings(["post", "pu*"], case="upper").matches("PUT")
    assert not m.strings(["post"], case="upper").matches("post")  # effects are already upper
    assert m.strings(["*TOKEN*"], case="insensitive").matches("gh_token")
    assert m.strings(["aws_secret"], case="insensitive").matches("AWS_SECRET")
    assert m.strings(["GitHub.com"], case="lower").matches("github.com")


def test_regexes_only_and_bad_regex() -> None:
    assert m.strings(["AKIA[0-9A-Z]{16}"], regexes_only=True).matches("x AKIAABCDEFGHIJKLMNOP")
    assert not m.strings(["AKIA[0-9A-Z]{16}"], regexes_only=True).matches("AKIA")
    with pytest.raises(ValueError, match="invalid regular expression"):
        m.strings(["re:("])


def test_exact_only_is_what_indexing_relies_on() -> None:
    assert m.strings(["rm", "rmdir"]).exact_only() == frozenset({"rm", "rmdir"})
    assert m.strings(["rm*"]).exact_only() is None
    assert m.strings(["rm", "!x"]).exact_only() is None
    assert m.strings(["re:rm"]).exact_only() is None


HOME = "/home/dev"


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["~/.ssh/**"], "/home/dev/.ssh/id_rsa", True),
        (["~/.ssh/**"], "/home/dev/.ssh/keys/a", True),
        (["~/.ssh/**"], "/home/dev/.ssh", False),  # not the directory itself
        (["~/.ssh"], "/home/dev/.ssh", True),
        (["~/.ssh/**"], "/home/dev/.sshx/a", False),
        (["~"], "/home/dev", True),
        ([".env"], "/w/app/.env", True),  # no "/": the last component
        ([".env"], "/w/.env.local", False),
        ([".env.*", "!.env.example"], "/w/.env.local", True),
        ([".env.*", "!.env.example"], "/w/.env.example", False),
        (["*.pem"], "/w/certs/a.pem", True),
        (["*.pem"], "/w/certs/a.pem.bak", False),
        (["**/.env"], "/w/a/b/.env", True),  # same as ".env"
        (["config/*.key"], "/w/app/config/a.key", True),  # relative: any depth
        (["config/*.key"], "/config/a.key", True),
        (["config/*.key"], "/w/myconfig/a.key", False),
        (["config/*.key"], "/w/config/sub/a.key", False),  # `*` stays in a component
        (["/etc/sudoers.d/*"], "/etc/sudoers.d/x", True),
        (["/etc/sudoers.d/*"], "/etc/sudoers.d/x/y", False),
        (["/a/**/b"], "/a/b", True),  # `**` in the middle: zero or more
        (["/a/**/b"], "/a/x/y/b", True),
        (["/a/**/b"], "/ab", False),
        (["/etc/shadow"], "/etc/shadow", True),
        (["/etc/shadow"], "/etc/shadow-", False),
        (["/etc/"], "/etc", True),  # a trailing slash is ignored
        (["re:^/proc/\\d+/environ$"], "/proc/12/environ", True),
        (["**"], "/anything/at/all", True),
        (["/x/**", "!/x/ok/**"], "/x/ok/a", False),
        (["/x/**", "!/x/ok/**"], "/x/no/a", True),
        (["[!a]*.key"], "/w/b.key", True),
        (["[!a]*.key"], "/w/a.key", False),
    ],
)
def test_path_globs(patterns: list[str], path: str, expected: bool) -> None:
    assert m.paths(patterns, home=HOME).matches(path) is expected
    assert m.paths(patterns, home=HOME).matches(path) is expected  # memoised: same answer


def test_path_glob_regex_has_no_nested_repetition() -> None:
    assert m.path_glob_regex("**/a/**/**/b") == ".*/a(?:/[^/]+)*/b"
    assert m.path_glob_regex("/x/**") == "/x(?:/[^/]+)+"


@pytest.mark.parametrize(
    ("patterns", "host", "expected"),
    [
        (["*.github.com"], "api.github.com", True),
        (["*.github.com"], "a.b.github.com", True),
        (["*.github.com"], "github.com", False),  # subdomains only
        (["*.github.com"], "evilgithub.com", False),
        (["github.com"], "github.com", True),
        (["github.com"], "api.github.com", False),
        (["*.localhost", "localhost"], "localhost", True),
    ],
)
def test_host_globs(patterns: list[str], host: str, expected: bool) -> None:
    assert m.strings(patterns, case="lower").matches(host) is expected


def test_cidr_blocks() -> None:
    blocks = m.cidrs(["169.254.0.0/16", "fe80::/10", "10.0.0.0/8"])
    cond = m.AddressIn(blocks)

    def net(host: str | None) -> NetEffect:
        return NetEffect("http", host, "public")

    assert cond.test(net("169.254.169.254"))
    assert cond.test(net("10.1.2.3"))
    assert cond.test(net("[fe80::1]"))
    assert cond.test(net("::ffff:169.254.169.254"))  # IPv4-mapped read as IPv4
    assert not cond.test(net("11.0.0.1"))
    assert not cond.test(net("example.com"))
    assert not cond.test(net(None))
    with pytest.raises(ValueError, match="not a CIDR block"):
        m.cidrs(["10.0.0.0/33"])


def test_ints_and_counts() -> None:
    ports = m.Ints("port", frozenset({22}), ((8000, 8999), (60000, None)))
    assert ports.test(NetEffect("tcp", "h", "public", port=22))
    assert ports.test(NetEffect("tcp", "h", "public", port=8080))
    assert ports.test(NetEffect("tcp", "h", "public", port=65000))
    assert not ports.test(NetEffect("tcp", "h", "public", port=80))
    assert not ports.test(NetEffect("tcp", "h", "public"))  # unknown port
    count = m.ArgCount(1, 2)
    assert count.test(ExecEffect("rm", ("rm", "a")))
    assert not count.test(ExecEffect("rm", ("rm",)))
    assert not count.test(ExecEffect("rm", ("rm", "a", "b", "c")))


def test_compiled_objects_pickle_without_their_compiled_regexes() -> None:
    matcher = m.paths(["*.pem", "/a/**", "re:x$"], home=HOME)
    assert matcher.matches("/w/a.pem")
    assert matcher.names_rx is not None and matcher.names_rx._rx is not None
    copy = pickle.loads(pickle.dumps(m.PathField("path", matcher)))
    assert copy.matcher.names_rx is not None and copy.matcher.names_rx._rx is None  # lazy again
    assert copy.matcher.matches("/w/a.pem") and copy.matcher.matches("/a/b")
    assert copy == m.PathField("path", copy.matcher)
    assert "PathField" in repr(copy)
