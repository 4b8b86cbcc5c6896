"""guardrail.parsers.url: hosts, addresses and URLs as clients really read them."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from hypothesis import given, settings
from strategies import url_hosts, url_texts

from guardrail.errors import ToolError
from guardrail.parsers.url import (
    ParsedUrl,
    classify_address,
    classify_ip,
    http_effect,
    normalize_host,
    parse_url,
    resolve_addresses,
)

# ---------------------------------------------------------------------------
# normalize_host


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PyPI.org", "pypi.org"),
        ("pypi.org.", "pypi.org"),
        ("  GitHub.COM  ", "github.com"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d", "example.com"),  # full-width letters and dot
        ("pypi\u00ad.org", "pypi.org"),  # soft hyphen: mapped away by IDNA, as browsers do
        ("%65xample.com", "example.com"),
        ("[::1]", "::1"),
        ("[0:0:0:0:0:0:0:1]", "::1"),
        ("[FE80::1%25eth0]", "fe80::1%eth0"),
        ("[::]", "::"),
        # IPv4 however written
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("169.254.169.254.", "169.254.169.254"),
        ("\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11", "127.0.0.1"),  # full-width digits
        # IPv4-mapped IPv6 is the IPv4 address
        ("::ffff:169.254.169.254", "169.254.169.254"),
        ("[::ffff:169.254.169.254]", "169.254.169.254"),
        ("::ffff:a9fe:a9fe", "169.254.169.254"),
        ("[::FFFF:7F00:1]", "127.0.0.1"),
    ],
)
def test_normalize_host(raw: str, expected: str) -> None:
    assert normalize_host(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["1.2.3.4.5", "256.1.1.1", "1.2.3.999", "08.1.1.1", "0x1g.1", "4294967296", "1.16777216"],
)
def test_normalize_host_leaves_non_addresses_alone(raw: str) -> None:
    assert normalize_host(raw) == raw


def test_normalize_host_does_not_decode_twice() -> None:
    # %2541 is "%41" once decoded: a host cannot contain "%", so nothing is decoded.
    assert normalize_host("%2541.com") == "%2541.com"
    assert classify_address("%2541.com") == "invalid"


def test_normalize_host_keeps_forbidden_decoded_characters_encoded() -> None:
    assert normalize_host("pypi.org%40evil.com") == "pypi.org%40evil.com"
    assert classify_address("pypi.org%40evil.com") == "invalid"


@given(url_hosts())
@settings(max_examples=400)
def test_normalize_host_is_idempotent(host: str) -> None:
    once = normalize_host(host)
    assert normalize_host(once) == once


@given(url_hosts())
@settings(max_examples=300)
def test_classify_address_is_stable_under_normalisation(host: str) -> None:
    assert classify_address(normalize_host(host)) == classify_address(host)


# ---------------------------------------------------------------------------
# classify_address / classify_ip


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        # loopback
        ("localhost", "loopback"),
        ("LOCALHOST.", "loopback"),
        ("app.localhost", "loopback"),
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("127.1", "loopback"),
        ("0x7f.1", "loopback"),
        ("::1", "loopback"),
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("notlocalhost", "public"),
        ("localhost.evil.com", "public"),
        # metadata
        ("169.254.169.254", "metadata"),
        ("2852039166", "metadata"),
        ("0xa9fea9fe", "metadata"),
        ("0251.0376.0251.0376", "metadata"),
        ("169.254.43518", "metadata"),
        ("[::ffff:169.254.169.254]", "metadata"),
        ("::ffff:a9fe:a9fe", "metadata"),
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 to the metadata address
        ("fd00:ec2::254", "metadata"),
        ("[FD00:EC2:0::254]", "metadata"),
        ("100.100.100.200", "metadata"),
        ("metadata", "metadata"),
        ("metadata.google.internal", "metadata"),
        ("Metadata.Google.Internal.", "metadata"),
        ("instance-data", "metadata"),
        ("instance-data.ec2.internal", "metadata"),
        # link-local
        ("169.254.0.1", "link_local"),
        ("169.254.170.2", "link_local"),  # ECS task metadata: link-local, denied too
        ("fe80::1", "link_local"),
        ("febf::1", "link_local"),
        ("[fe80::1%25eth0]", "link_local"),
        # private and shared
        ("10.0.0.1", "private"),
        ("10.255.255.255", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.10", "private"),
        ("100.64.0.1", "private"),
        ("100.127.255.255", "private"),
        ("fc00::1", "private"),
        ("fdff::1", "private"),
        # not public: read as private
        ("224.0.0.1", "private"),
        ("239.255.255.250", "private"),
        ("255.255.255.255", "private"),
        ("240.0.0.1", "private"),
        ("ff02::1", "private"),
        ("192.0.2.1", "private"),
        # unspecified
        ("0.0.0.0", "unspecified"),
        ("0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("[::]", "unspecified"),
        # public
        ("pypi.org", "public"),
        ("8.8.8.8", "public"),
        ("172.32.0.1", "public"),
        ("172.15.255.255", "public"),
        ("100.128.0.1", "public"),
        ("169.255.0.1", "public"),
        ("2606:4700:4700::1111", "public"),
        ("xn--bcher-kva.de", "public"),
        ("my_host.internal", "public"),
        ("169.254.169.254.nip.io", "public"),  # a name: DNS decides, see resolve_addresses
        # invalid
        ("", "invalid"),
        ("   ", "invalid"),
        ("a b.com", "invalid"),
        ("ex..com", "invalid"),
        ("evil.com/x", "invalid"),
        ("1.2.3.4.5", "invalid"),
        ("1.2.3.999", "invalid"),
        ("example.123", "invalid"),
        ("[not-an-ip]", "invalid"),
        ("::1::2", "invalid"),
        ("a" * 64 + ".com", "invalid"),
        ("\x00", "invalid"),
    ],
)
def test_classify_address(host: str, expected: str) -> None:
    assert classify_address(host) == expected


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "metadata"),
        ("fe80::1%eth0", "link_local"),
        ("[::1]", "loopback"),
        ("10.1.2.3", "private"),
        ("93.184.216.34", "public"),
        ("::ffff:10.0.0.1", "private"),
        ("::a9fe:a9fe", "metadata"),  # IPv4-compatible form
        ("0x7f.1", "loopback"),
        ("localhost", "invalid"),  # a name, not an IP
        ("pypi.org", "invalid"),
        ("", "invalid"),
    ],
)
def test_classify_ip(ip: str, expected: str) -> None:
    assert classify_ip(ip) == expected


# ---------------------------------------------------------------------------
# parse_url


def test_parse_url_plain() -> None:
    assert parse_url("https://pypi.org/simple/requests/") == ParsedUrl(
        original="https://pypi.org/simple/requests/",
        scheme="https",
        host="pypi.org",
        port=443,
        userinfo=False,
        path="/simple/requests/",
        address="public",
        query="",
    )


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "address"),
    [
        ("http://localhost:8000/api/health", "http", "localhost", 8000, "loopback"),
        ("http://127.0.0.1:5000", "http", "127.0.0.1", 5000, "loopback"),
        ("http://[::1]:3000/", "http", "::1", 3000, "loopback"),
        ("HTTPS://API.GitHub.com/repos/x/y", "https", "api.github.com", 443, "public"),
        ("https://raw.githubusercontent.com./a/b", "https", "raw.githubusercontent.com", 443, "public"),
        ("http://169.254.169.254/latest/meta-data/", "http", "169.254.169.254", 80, "metadata"),
        ("http://2852039166/latest", "http", "169.254.169.254", 80, "metadata"),
        ("http://0xa9fea9fe/", "http", "169.254.169.254", 80, "metadata"),
        ("http://0251.0376.0251.0376/", "http", "169.254.169.254", 80, "metadata"),
        ("http://169.254.43518/", "http", "169.254.169.254", 80, "metadata"),
        ("http://[::ffff:169.254.169.254]/", "http", "169.254.169.254", 80, "metadata"),
        ("http://[fd00:ec2::254]/latest", "http", "fd00:ec2::254", 80, "metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "http", "metadata.google.internal", 80, "metadata"),
        ("http://100.100.100.200/latest/meta-data", "http", "100.100.100.200", 80, "metadata"),
        ("http://[fe80::1%25eth0]:8080/", "http", "fe80::1%eth0", 8080, "link_local"),
        ("http://10.0.0.5:9200/_cat/indices", "http", "10.0.0.5", 9200, "private"),
        ("http://0.0.0.0:8000/", "http", "0.0.0.0", 8000, "unspecified"),
        ("http://[::]:8000/", "http", "::", 8000, "unspecified"),
        ("http://127.1/", "http", "127.0.0.1", 80, "loopback"),
        ("http://%31%32%37.0.0.1/", "http", "127.0.0.1", 80, "loopback"),
        ("http://Bücher.de/", "http", "xn--bcher-kva.de", 80, "public"),
        # schemes other than http(s): parsed, the policy denies them
        ("file:///etc/passwd", "file", None, None, "invalid"),
        ("file://localhost/etc/passwd", "file", "localhost", None, "loopback"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "gopher", "127.0.0.1", 6379, "loopback"),
        ("ftp://ftp.example.com/pub/x", "ftp", "ftp.example.com", 21, "public"),
        ("dict://localhost:11211/stat", "dict", "localhost", 11211, "loopback"),
        ("ldap://ldap.example.com/dc=x", "ldap", "ldap.example.com", 389, "public"),
        ("javascript:alert(1)", "javascript", None, None, "invalid"),
        ("data:text/plain,hi", "data", None, None, "invalid"),
        ("foo:bar", "foo", None, None, "invalid"),
    ],
)
def test_parse_url_destinations(
    url: str, scheme: str | None, host: str | None, port: int | None, address: str
) -> None:
    p = parse_url(url)
    assert (p.scheme, p.host, p.port, p.address) == (scheme, host, port, address)


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "path"),
    [
        # curl reads a URL without a scheme as http (ftp for ftp.*, ...)
        ("example.com/x", "http", "example.com", 80, "/x"),
        ("pypi.org", "http", "pypi.org", 80, ""),
        ("localhost:8080/api", "http", "localhost", 8080, "/api"),
        ("127.0.0.1:5432", "http", "127.0.0.1", 5432, ""),
        ("//cdn.example.com/lib.js", "http", "cdn.example.com", 80, "/lib.js"),
        ("ftp.example.com/file", "ftp", "ftp.example.com", 21, "/file"),
        # whitespace, tabs and newlines
        ("  https://pypi.org/simple/  ", "https", "pypi.org", 443, "/simple/"),
        ("https://py\tpi.org/\n", "https", "pypi.org", 443, "/"),
        # missing slashes, extra slashes
        ("http:evil.com/x", "http", "evil.com", 80, "/x"),
        ("http:/evil.com/x", "http", "evil.com", 80, "/x"),
        ("http:///evil.com/x", "http", "evil.com", 80, "/x"),
        # an empty port is the default port
        ("http://example.com:/", "http", "example.com", 80, "/"),
    ],
)
def test_parse_url_forms(url: str, scheme: str, host: str, port: int, path: str) -> None:
    p = parse_url(url)
    assert (p.scheme, p.host, p.port, p.path) == (scheme, host, port, path)


@pytest.mark.parametrize(
    ("url", "host", "userinfo"),
    [
        ("https://user:pass@example.com/", "example.com", True),
        ("https://ghp_token@github.com/org/repo.git", "github.com", True),
        ("http://pypi.org@evil.com/", "evil.com", True),
        ("http://pypi.org:443@evil.com/", "evil.com", True),
        ("http://a@b@evil.com/", "evil.com", True),
        ("http://@evil.com/", "evil.com", True),
        ("http://user@[::1]:8080/", "::1", True),
        ("http://evil.com/?next=@pypi.org", "evil.com", False),
        ("http://evil.com#@pypi.org", "evil.com", False),
        ("http://evil.com/@pypi.org", "evil.com", False),
        ("https://github.com/x@y", "github.com", False),
    ],
)
def test_parse_url_userinfo_and_at_tricks(url: str, host: str, userinfo: bool) -> None:
    p = parse_url(url)
    assert (p.host, p.userinfo) == (host, userinfo)


@pytest.mark.parametrize(
    ("url", "host", "address", "userinfo"),
    [
        # A browser turns \ into /; both agree on the host here.
        ("http:\\\\evil.com\\x", "evil.com", "public", False),
        ("http:\\\\169.254.169.254\\latest", "169.254.169.254", "metadata", False),
        ("https:/\\evil.com/", "evil.com", "public", False),
        # Browser: host pypi.org; curl: user info "pypi.org\", host evil.com. The @-reading wins.
        ("http://pypi.org\\@evil.com/", "evil.com", "public", True),
        # Browser: loopback; curl: evil.com. The more dangerous reading wins.
        ("http://127.0.0.1\\@evil.com/", "evil.com", "public", True),
        ("http://evil.com\\@169.254.169.254/", "169.254.169.254", "metadata", True),
        ("http://localhost\\@0251.0376.0251.0376/", "169.254.169.254", "metadata", True),
    ],
)
def test_parse_url_backslashes_take_the_safer_reading(
    url: str, host: str, address: str, userinfo: bool
) -> None:
    p = parse_url(url)
    assert (p.host, p.address, p.userinfo) == (host, address, userinfo)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "http://",
        "http:///",
        "https://:443/",
        "http://[::1",
        "http://[::1]x/",
        "http://[zzz]/",
        "http://example.com:99999/",
        "http://example.com:65536/",
        "http://example.com:-1/",
        "http://example.com:8o/",
        "http://example.com:80:80/",
        "http://exa mple.com/",
        "http://ex..com/",
        "http://1.2.3.4.5/",
        "http://pypi.org%40evil.com/",
        "/just/a/path",
        "http://\x00/",
        "\ud800",
    ],
)
def test_parse_url_invalid(url: str) -> None:
    assert parse_url(url).address == "invalid"


def test_parse_url_port_in_range_is_valid() -> None:
    assert parse_url("http://example.com:65535/").port == 65535
    assert parse_url("http://example.com:065535/").address == "public"


def test_parse_url_keeps_query_apart_from_path() -> None:
    p = parse_url("https://api.github.com/search?q=a/b#frag")
    assert (p.path, p.query) == ("/search", "q=a/b")


@given(url_texts())
@settings(max_examples=600)
def test_parse_url_never_raises(url: str) -> None:
    p = parse_url(url)
    assert p.original == url
    assert p.port is None or 0 <= p.port <= 65535
    if p.host is not None:
        assert normalize_host(p.host) == p.host


# ---------------------------------------------------------------------------
# http_effect


def test_http_effect() -> None:
    e = http_effect(
        "http://user@Example.com:8080/upload",
        "post",
        headers=["Content-Type: text/plain"],
        body="hello",
        source="curl -d hello http://user@Example.com:8080/upload",
    )
    assert e.kind == "net"
    assert e.protocol == "http"
    assert e.method == "POST"
    assert e.host == "example.com"
    assert e.port == 8080
    assert e.scheme == "http"
    assert e.address == "public"
    assert e.userinfo is True
    assert e.headers == ("Content-Type: text/plain",)
    assert e.body == "hello"
    assert e.url == "http://user@Example.com:8080/upload"
    assert e.source.startswith("curl -d")


def test_http_effect_defaults() -> None:
    e = http_effect("https://pypi.org/simple/")
    assert (e.method, e.source, e.body, e.headers) == ("GET", "https://pypi.org/simple/", None, ())


def test_http_effect_metadata_however_written() -> None:
    for url in ("http://0xa9fea9fe/", "http://[::ffff:a9fe:a9fe]/", "http://169.254.43518/"):
        assert http_effect(url, "head").address == "metadata"


# ---------------------------------------------------------------------------
# resolve_addresses


def test_resolve_addresses_ip_literal() -> None:
    assert resolve_addresses("127.1") == ["127.0.0.1"]
    assert resolve_addresses("[::1]") == ["::1"]


def test_resolve_addresses_localhost() -> None:
    addresses = resolve_addresses("localhost")
    assert addresses
    assert all(classify_ip(a) == "loopback" for a in addresses)


def test_resolve_addresses_failure_is_a_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(ToolError, match=r"cannot resolve host 'no-such-host\.invalid'"):
        resolve_addresses("no-such-host.invalid")


def test_resolve_addresses_empty_host() -> None:
    with pytest.raises(ToolError, match="empty host"):
        resolve_addresses("  ")


def test_resolve_addresses_deduplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%eth0", 0, 0, 2)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    assert resolve_addresses("example.com") == ["93.184.216.34", "fe80::1"]


# ---------------------------------------------------------------------------
# import cost


def test_importing_url_parser_stays_cheap() -> None:
    code = (
        "import sys, guardrail.parsers.url; "
        "print(sorted(m for m in ('sqlglot', 'pydantic', 'yaml', 'rich', 'typer', 'httpx') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
