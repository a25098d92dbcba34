"""What a deployment URL and a session token must look like, and how a URL is shown."""

from __future__ import annotations

from yarl import URL

__all__ = ["public_url", "validate_base_url", "validate_token"]


def public_url(url: URL) -> str:
    """``url`` as text without userinfo (a password in the URL is as secret as the token)."""
    return str(url.with_user(None).with_password(None)) if url.user or url.password else str(url)


def validate_base_url(url: str | URL) -> URL:
    """Check the deployment URL: http(s), a host, and no ``/api`` path of its own."""
    parsed = URL(str(url).strip())
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ValueError(
            f"Coder URL must start with http:// or https:// and name a host: {public_url(parsed)!r}"
        )
    if "/api" in f"{parsed.path.rstrip('/')}/":
        raise ValueError(
            f"Coder URL must be the deployment root (like https://coder.example.com), not an "
            f"API path: {parsed.with_user(None).with_password(None)}"
        )
    if parsed.query_string or parsed.fragment:
        raise ValueError("Coder URL must not carry a query string or fragment")
    return parsed.with_path(parsed.path.rstrip("/"))


def validate_token(token: str) -> str:
    """A session token must be a non-empty single header line."""
    if not isinstance(token, str):
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    if not token.strip():
        raise ValueError("token must not be empty")
    if any(c in token for c in "\r\n\0"):
        raise ValueError("token must not contain line breaks or NUL characters")
    return token.strip()
