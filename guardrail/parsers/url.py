"""URLs and host names: what a network request would really reach.

The policy decides HTTP requests by where they go (spec section 2), so the
one thing this module must get right is the *destination*, however it is
spelt. Attackers and confused agents write the same address many ways:
`127.1`, `0x7f.1`, `2130706433`, `[::ffff:127.0.0.1]`, `http:\\\\evil.com`,
`http://pypi.org@evil.com/`. Each of them is read here the way the client
that sends it would read it; where clients disagree (curl keeps a backslash
that a browser turns into a slash) both readings are taken and the more
dangerous one wins.

Only the standard library is imported: this module runs on every agent hook
call, so it must stay cheap to import.

Address classes (`guardrail.effects.AddressClass`):

- ``loopback``: ``localhost``, ``*.localhost``, ``127.0.0.0/8``, ``::1``.
- ``metadata``: cloud instance metadata endpoints: ``169.254.169.254``,
  ``fd00:ec2::254``, ``100.100.100.200`` and the names ``metadata``,
  ``metadata.google.internal``, ``instance-data``,
  ``instance-data.ec2.internal``.
- ``link_local``: the rest of ``169.254.0.0/16`` and ``fe80::/10``.
- ``private``: ``10/8``, ``172.16/12``, ``192.168/16``, ``100.64/10``
  (shared address space), ``fc00::/7``; and, because none of them is a
  public destination either, multicast (``224/4``, ``ff00::/8``), the
  broadcast address, reserved and special-purpose blocks (``240/4``,
  ``192.0.0/24``, the documentation and benchmarking ranges, ``fec0::/10``,
  ``2001:db8::/32``, ``100::/64``).
- ``unspecified``: all of ``0.0.0.0/8`` (Linux connects ``0.0.0.0`` to the
  local host) and ``::``.
- ``public``: every other address, and every well-formed host *name* (a
  name is not resolved here: DNS is the executors' and egress proxy's job,
  through `resolve_addresses` and `classify_ip`).
- ``invalid``: empty, unparsable, or a name that cannot be a host (bad
  characters, empty labels, a numeric last label that is no IPv4 address).

IPv6 addresses that embed an IPv4 address and are delivered to it
(IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64
``64:ff9b::a.b.c.d``) are classified as the IPv4 address; mapped ones are
also *normalised* to it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from guardrail.effects import AddressClass, NetEffect
from guardrail.errors import ToolError

__all__ = [
    "ParsedUrl",
    "classify_address",
    "classify_ip",
    "http_effect",
    "normalize_host",
    "parse_url",
    "resolve_addresses",
]

# ---------------------------------------------------------------------------
# Host names


_LOCALHOST = "localhost"
METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"}
)
# Characters that end or split a host in a URL: a percent-decoded host that
# contains one of them was not meant as a host (WHATWG "forbidden host code points").
_FORBIDDEN_IN_HOST = frozenset(" \t\r\n/?#[]@\\:%<>^|\x00")
_NAME_RE = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_NUMERIC_LABEL_RE = re.compile(r"(?:0[x][0-9a-f]*|[0-9]+)")


def normalize_host(host: str) -> str:
    """The canonical spelling of a host, for matching and classification.

    Lower case, no trailing dot, percent-escapes decoded, IDNA names in their
    ASCII (punycode) form, IPv6 without brackets in compressed form, an
    IPv4-mapped IPv6 address as its IPv4 address, and an IPv4 address however
    written (`127.1`, `0x7f.1`, `2130706433`, `0177.0.0.1`) as a dotted quad.

    Never raises: what cannot be normalised is returned lower-cased and
    trimmed, and `classify_address` then calls it ``invalid``. The result is
    a fixed point (normalising it again changes nothing).
    """
    s = host
    for _ in range(8):  # the steps below settle in one or two rounds
        t = _normalize_once(s)
        if t == s:
            break
        s = t
    return s


def _normalize_once(host: str) -> str:
    s = host.strip().lower()
    if s.startswith("[") and s.endswith("]"):
        inner = s[1:-1].replace("%25", "%")
        v6 = _ipv6(inner)
        return _format_ipv6(v6) if v6 is not None else s
    if ":" in s:
        v6 = _ipv6(s)
        if v6 is not None:
            return _format_ipv6(v6)
    s = _percent_decode(s)
    if not s.isascii():
        s = _idna(s)
    s = s.lower().rstrip(".").strip()
    v4 = parse_ipv4(s)
    return v4 if v4 is not None else s


def _percent_decode(s: str) -> str:
    """Decode %XX escapes once, unless that yields something no host can contain."""
    if "%" not in s:
        return s
    try:
        decoded = unquote(s, errors="strict")
    except UnicodeDecodeError:
        return s
    if any(c in _FORBIDDEN_IN_HOST for c in decoded):
        return s
    return decoded.lower()


def _idna(s: str) -> str:
    """IDNA ToASCII (nameprep maps full-width digits and dots to ASCII, too)."""
    try:
        return s.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return s


def _ipv6(s: str) -> ipaddress.IPv6Address | None:
    try:
        return ipaddress.IPv6Address(s)
    except ValueError:
        return None


def _format_ipv6(addr: ipaddress.IPv6Address) -> str:
    mapped = addr.ipv4_mapped
    if mapped is not None:
        return str(mapped)
    return addr.compressed.lower()


def _ipv4_part(part: str) -> int | None:
    """One part of an inet_aton address: decimal, 0x-hex or 0-octal."""
    if part.startswith(("0x", "0X")):
        digits = part[2:]
        if digits == "":
            return 0
        return int(digits, 16) if all(c in "0123456789abcdefABCDEF" for c in digits) else None
    if not part.isascii() or not part.isdigit():
        return None
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if all(c in "01234567" for c in part) else None
    return int(part)


def parse_ipv4(s: str) -> str | None:
    """Read `s` as inet_aton(3) does (1 to 4 parts, each decimal, hex or octal).

    `a.b.c.d`; `a.b.c` (c fills 16 bits); `a.b` (b fills 24 bits); `a`
    (32 bits). Returns the dotted quad, or None when `s` is no IPv4 address.
    """
    parts = s.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _ipv4_part(part)
        if value is None:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for i, v in enumerate(head):
        number += v << (8 * (3 - i))
    return str(ipaddress.IPv4Address(number))


# ---------------------------------------------------------------------------
# Classification

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

_V4_TABLE: tuple[tuple[ipaddress.IPv4Network, AddressClass], ...] = (
    (_V4("169.254.169.254/32"), "metadata"),
    (_V4("100.100.100.200/32"), "metadata"),  # Alibaba Cloud
    (_V4("0.0.0.0/8"), "unspecified"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link_local"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("100.64.0.0/10"), "private"),  # shared address space (carrier-grade NAT)
    # Not public either: read as private.
    (_V4("192.0.0.0/24"), "private"),  # IETF protocol assignments
    (_V4("192.0.2.0/24"), "private"),  # documentation
    (_V4("198.51.100.0/24"), "private"),
    (_V4("203.0.113.0/24"), "private"),
    (_V4("198.18.0.0/15"), "private"),  # benchmarking
    (_V4("224.0.0.0/4"), "private"),  # multicast
    (_V4("240.0.0.0/4"), "private"),  # reserved, and 255.255.255.255 broadcast
)

_V6_TABLE: tuple[tuple[ipaddress.IPv6Network, AddressClass], ...] = (
    (_V6("fd00:ec2::254/128"), "metadata"),  # AWS IMDS over IPv6
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("fe80::/10"), "link_local"),
    (_V6("fc00::/7"), "private"),
    (_V6("fec0::/10"), "private"),  # deprecated site-local
    (_V6("ff00::/8"), "private"),  # multicast
    (_V6("2001:db8::/32"), "private"),  # documentation
    (_V6("100::/64"), "private"),  # discard-only
)

_NAT64 = _V6("64:ff9b::/96")
_V4_COMPATIBLE = _V6("::/96")


def classify_ip(ip: str) -> AddressClass:
    """The class of one IP address (as getaddrinfo returns it, or any spelling).

    Brackets and an IPv6 zone (`fe80::1%eth0`) are accepted. Anything that is
    not an IP address is ``invalid``: names are for `classify_address`.
    """
    s = ip.strip()
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1]
    s = s.split("%", 1)[0]
    try:
        addr = ipaddress.ip_address(s)
    except ValueError:
        v4 = parse_ipv4(s.lower().rstrip("."))
        if v4 is None:
            return "invalid"
        addr = ipaddress.IPv4Address(v4)
    if isinstance(addr, ipaddress.IPv4Address):
        return _classify_v4(addr)
    return _classify_v6(addr)


def _classify_v4(addr: ipaddress.IPv4Address) -> AddressClass:
    for network, klass in _V4_TABLE:
        if addr in network:
            return klass
    return "public"


def _classify_v6(addr: ipaddress.IPv6Address) -> AddressClass:
    embedded = _embedded_ipv4(addr)
    if embedded is not None:
        return _classify_v4(embedded)
    for network, klass in _V6_TABLE:
        if addr in network:
            return klass
    return "public"


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a v6 address is delivered to, for the forms that are."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    low32 = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr in _NAT64:
        return low32
    if addr in _V4_COMPATIBLE and int(addr) > 1:  # not :: and not ::1
        return low32
    return None


def classify_address(host: str) -> AddressClass:
    """The class of a host name or address (see the module docstring).

    The host is normalised first (that is idempotent), so un-normalised
    spellings are classified correctly too. Names are not resolved.
    """
    h = normalize_host(host)
    if not h:
        return "invalid"
    if h[0] == "[" or ":" in h:
        v6 = _ipv6(h.strip("[]").split("%", 1)[0])
        return _classify_v6(v6) if v6 is not None else "invalid"
    if parse_ipv4(h) is not None:
        return classify_ip(h)
    return _classify_name(h)


def _classify_name(h: str) -> AddressClass:
    if len(h) > 253 or _NAME_RE.fullmatch(h) is None:
        return "invalid"
    labels = h.split(".")
    if any(len(label) > 63 for label in labels):
        return "invalid"
    if _NUMERIC_LABEL_RE.fullmatch(labels[-1]):
        # A numeric last label makes the host an IPv4 address, and it is not one.
        return "invalid"
    if h == _LOCALHOST or h.endswith("." + _LOCALHOST):
        return "loopback"
    if h in METADATA_NAMES:
        return "metadata"
    return "public"


# ---------------------------------------------------------------------------
# URLs

DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
    "ftp": 21,
    "gopher": 70,
    "dict": 2628,
    "ldap": 389,
    "ldaps": 636,
}
# Schemes whose authority follows the colon even without `//` (WHATWG "special").
_SPECIAL = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
# Recognised as a scheme even when no `//` follows (`mailto:x`, `data:...`).
_KNOWN_SCHEMES = _SPECIAL | frozenset(
    {
        "gopher", "dict", "ldap", "ldaps", "javascript", "data", "mailto", "tftp",
        "telnet", "smb", "smbs", "sftp", "scp", "ssh", "git", "imap", "imaps", "pop3",
        "pop3s", "smtp", "smtps", "rtsp", "rtmp", "mqtt", "jar", "netdoc", "about",
        "blob", "view-source", "ftps", "news", "nntp", "irc", "ws", "wss",
    }
)  # fmt: skip
# curl's guesses for a URL without a scheme, by the host's first label.
_CURL_GUESSES = {"ftp": "ftp", "dict": "dict", "ldap": "ldap", "imap": "imap", "smtp": "smtp", "pop3": "pop3"}
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Classes ranked by how much harm a request there can do; of two readings of
# one URL, the higher one is kept.
_SEVERITY: dict[AddressClass, int] = {
    "loopback": 0,
    "public": 1,
    "private": 2,
    "unspecified": 3,
    "link_local": 4,
    "metadata": 5,
}


@dataclass(frozen=True)
class ParsedUrl:
    """A URL as a client would send it.

    `scheme` is lower case; a URL written without one gets curl's guess
    (``http``, or ``ftp`` for a host `ftp.…`, and so on), None only when no
    reading found any. `port` is the explicit port or the scheme's default.
    `path` is the path as written (no query or fragment), `query` the query.
    """

    original: str
    scheme: str | None
    host: str | None
    port: int | None
    userinfo: bool
    path: str
    address: AddressClass
    query: str = ""


def parse_url(url: str) -> ParsedUrl:
    """Parse a URL the way browsers and curl would; never raises.

    Tabs and newlines are dropped and surrounding whitespace trimmed (as
    browsers do). A backslash is a slash to a browser but an ordinary
    character to curl, so a URL with one is read both ways and the reading
    with the more dangerous destination is kept (userinfo counts if either
    reading has it). Garbage gives address ``invalid``.
    """
    try:
        return _parse_url(url)
    except Exception:  # the contract is "never raises": fail closed instead
        return ParsedUrl(url, None, None, None, False, "", "invalid")


def _parse_url(url: str) -> ParsedUrl:
    text = url.strip(" \t\r\n\f\v\x00").replace("\t", "").replace("\n", "").replace("\r", "")
    browser = _read(url, text, backslash_is_slash=True)
    if "\\" not in text:
        return browser
    curl = _read(url, text, backslash_is_slash=False)
    chosen = _more_dangerous(browser, curl)
    userinfo = browser.userinfo or curl.userinfo
    if userinfo != chosen.userinfo:
        chosen = ParsedUrl(
            chosen.original, chosen.scheme, chosen.host, chosen.port, userinfo,
            chosen.path, chosen.address, chosen.query,
        )  # fmt: skip
    return chosen


def _more_dangerous(browser: ParsedUrl, curl: ParsedUrl) -> ParsedUrl:
    """The reading to decide by. On a tie curl's wins: in `http://pypi.org\\@evil.com`
    it is the one that names the host after the `@`, which is where curl sends it."""
    if browser.address == "invalid":
        return curl
    if curl.address == "invalid":
        return browser
    return curl if _SEVERITY[curl.address] >= _SEVERITY[browser.address] else browser


def _read(original: str, text: str, *, backslash_is_slash: bool) -> ParsedUrl:
    """One reading of a URL. `text` is already trimmed."""
    if backslash_is_slash:
        cut = _first_of(text, "?#")
        text = text[:cut].replace("\\", "/") + text[cut:]
    scheme, rest, guessed = _split_scheme(text)
    if scheme is None:
        return ParsedUrl(original, None, None, None, False, rest, "invalid")
    if not guessed and scheme not in _SPECIAL and not rest.startswith("//"):
        # mailto:x, data:..., javascript:...: no authority.
        return ParsedUrl(original, scheme, None, None, False, rest, "invalid")
    if guessed:
        if rest.startswith("//"):
            rest = rest[2:]
    elif scheme == "file" or scheme not in _SPECIAL:
        rest = rest[2:] if rest.startswith("//") else ""
    else:
        rest = rest.lstrip("/")  # http:evil.com, http:/evil.com, http:///evil.com
    end = _first_of(rest, "/?#")
    authority, tail = rest[:end], rest[end:]
    qpos = _first_of(tail, "?#")
    path, query = tail[:qpos], tail[qpos:].lstrip("?").split("#", 1)[0]
    userinfo = "@" in authority
    hostport = authority.rsplit("@", 1)[-1]
    host, port, ok = _split_host_port(hostport)
    if guessed and host is not None:
        scheme = _CURL_GUESSES.get(host.split(".", 1)[0], "http") if "." in host else "http"
    if port is None and ok:
        port = DEFAULT_PORTS.get(scheme)
    if host is None:
        address: AddressClass = "invalid"
    else:
        address = classify_address(host) if ok else "invalid"
    return ParsedUrl(original, scheme, host, port, userinfo, path, address, query)


def _first_of(s: str, chars: str) -> int:
    positions = [i for i in (s.find(c) for c in chars) if i >= 0]
    return min(positions) if positions else len(s)


def _split_scheme(text: str) -> tuple[str | None, str, bool]:
    """(scheme, rest after `scheme:`, guessed). Guessed means no scheme was written.

    `example.com:8080/x` and `localhost:3000` are host and port, as curl reads
    them, not a scheme; `foo:bar` with an unknown scheme stays a scheme (which
    the policy denies as not http/https).
    """
    m = _SCHEME_RE.match(text)
    if m is not None:
        name = m.group(1).lower()
        rest = text[m.end() :]
        looks_like_port = rest == "" or rest[0].isdigit()
        if rest.startswith("//") or name in _KNOWN_SCHEMES or not looks_like_port:
            return name, rest, False
    if text.startswith("/") and not text.startswith("//"):
        return None, text, True  # a bare path: no host
    if text == "":
        return None, "", True
    return "http", text, True


def _split_host_port(hostport: str) -> tuple[str | None, int | None, bool]:
    """(normalised host, explicit port, well-formed)."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            return normalize_host(hostport) or None, None, False
        host_part, after = hostport[: close + 1], hostport[close + 1 :]
        if after and not after.startswith(":"):
            return normalize_host(host_part) or None, None, False
        port_text = after[1:] if after else None
    elif ":" in hostport:
        host_part, port_text = hostport.split(":", 1)
    else:
        host_part, port_text = hostport, None
    host = normalize_host(host_part) or None
    if host is None:
        return None, None, False
    if port_text is None or port_text == "":
        return host, None, True
    if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
        return host, None, False
    return host, int(port_text), True


def http_effect(
    url: str,
    method: str = "GET",
    *,
    headers: Sequence[str] = (),
    body: str | None = None,
    source: str = "",
) -> NetEffect:
    """The effect of one HTTP request, from any tool (curl, wget, the http tool)."""
    parsed = parse_url(url)
    return NetEffect(
        protocol="http",
        host=parsed.host,
        address=parsed.address,
        source=source or url,
        url=url,
        scheme=parsed.scheme,
        port=parsed.port,
        method=method.strip().upper() or "GET",
        userinfo=parsed.userinfo,
        headers=tuple(headers),
        body=body,
    )


# ---------------------------------------------------------------------------
# Resolution (executors and the egress proxy; never on the check path)


def resolve_addresses(host: str) -> list[str]:
    """The IP addresses `host` resolves to now, de-duplicated, in resolver order.

    Executors check every address with `classify_ip` right before they
    connect, so a public name that resolves to a metadata or private address
    (DNS rebinding) is caught. An IP literal is returned as is (normalised).
    """
    h = normalize_host(host)
    if not h:
        raise ToolError("cannot resolve an empty host name; give a host in the URL")
    if classify_ip(h) != "invalid":
        return [h]
    try:
        infos = socket.getaddrinfo(h, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise ToolError(
            f"cannot resolve host {h!r}: {exc}; check the name and the network/DNS settings"
        ) from exc
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    if not seen:
        raise ToolError(f"host {h!r} resolved to no address; check the name")
    return seen
