"""Reading a response body within ``max_body_size``, counted after decompression."""

from __future__ import annotations

import aiohttp
from yarl import URL

from .._wire.deployment import public_url
from .._wire.errors import AmbiguousRequestError, CoderTransportError
from .._wire.settings import IDEMPOTENT_METHODS

__all__ = ["read_limited"]


async def read_limited(resp: aiohttp.ClientResponse, limit: int, method: str, url: URL) -> bytes:
    """The decoded body, refused once it grows past ``limit`` bytes.

    The limit is on *decoded* bytes: a compressed body (gzip, deflate, br, zstd:
    whatever aiohttp decodes) is counted as it is inflated, chunk by chunk, and
    aiohttp inflates a bounded amount per network read, so a 20 KB gzip bomb is
    stopped after about ``limit`` bytes instead of growing to 20 MB.
    """
    length = resp.content_length
    if length is not None and length > limit:
        raise _too_big(f"response body of {length} bytes", limit, method, url)
    if length is not None and "Content-Encoding" not in resp.headers:
        return await resp.read()  # the common case: its size is known and honest
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise _too_big("decoded response body", limit, method, url)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(what: str, limit: int, method: str, url: URL) -> CoderTransportError:
    message = f"{what} exceeds max_body_size={limit} bytes"
    if method in IDEMPOTENT_METHODS:
        return CoderTransportError(message, method=method, url=public_url(url))
    # The server answered, so it may have acted: never a reason to send again.
    return AmbiguousRequestError(
        f"{message}; the request may have been handled, so it was not sent again",
        method=method,
        url=public_url(url),
    )
