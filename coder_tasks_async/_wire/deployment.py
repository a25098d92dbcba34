"""What a deployment URL and a session token must look like, and how a URL is shown."""

from __future__ import annotations

import ipaddress
import re

from yarl import URL

__all__ = ["public_url", "validate_base_url", "validate_token"]


def public_url(url: URL) -> str:
    """``url`` as text without userinfo (a password in the URL is as secret as the token)."""
    return str(url.with_user(None).with_password(None)) if url.user or url.password else str(url)


#: A host name as it goes on the wire (IDN hosts are punycode by then); IPv6 is checked apart.
_HOST = re.compile(r"[A-Za-z0-9._~-]+")


def validate_base_url(url: str | URL) -> URL:
    """Check the deployment URL: http(s), a well-formed host, and no ``/api`` path of its own.

    Whitespace or control characters anywhere (a host with a space, tab or NUL)
    are refused rather than silently dropped or sent.
    """
    text = str(url).strip()
    if any(c.isspace() or _is_control(c) for c in text):
        raise ValueError("Coder URL must not contain spaces or control characters")
    try:
        parsed = URL(text)
    except ValueError as exc:
        raise ValueError(f"Coder URL is not a valid URL ({exc})") from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ValueError(
            f"Coder URL must start with http:// or https:// and name a host: {public_url(parsed)!r}"
        )
    if not _valid_host(parsed.raw_host or ""):
        raise ValueError(f"Coder URL has an invalid host name: {parsed.raw_host!r}")
    if "/api" in f"{parsed.path.rstrip('/')}/":
        raise ValueError(
            f"Coder URL must be the deployment root (like https://coder.example.com), not an "
            f"API path: {parsed.with_user(None).with_password(None)}"
        )
    if parsed.query_string or parsed.fragment:
        raise ValueError("Coder URL must not carry a query string or fragment")
    return parsed.with_path(parsed.path.rstrip("/"))


def _valid_host(host: str) -> bool:
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    return bool(_HOST.fullmatch(host))


def _is_control(char: str) -> bool:
    # C0, DEL and C1: none of them belongs in a URL or a header value.
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def validate_token(token: str) -> str:
    """A session token must be one printable ASCII word (surrounding whitespace is trimmed).

    Control characters (C0, DEL, C1), inner whitespace, lone surrogates and any
    other non-ASCII character are refused: an HTTP header cannot carry them
    faithfully.  The message never repeats the token.
    """
    if not isinstance(token, str):
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    token = token.strip()
    if not token:
        raise ValueError("token must not be empty")
    for position, char in enumerate(token):
        if _is_control(char):
            raise ValueError(
                f"token must not contain control characters (one at position {position})"
            )
        if not 0x21 <= ord(char) <= 0x7E:
            raise ValueError(
                "token must be printable ASCII without spaces (a header cannot carry "
                f"the character at position {position})"
            )
    return token
