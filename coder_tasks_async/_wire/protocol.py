"""The pure protocol core: paths, task references, the ``q`` filter, request
bodies, input validation, and turning an error response into an exception.

Nothing here touches a socket or an event loop, so all of it is tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import quote
from uuid import UUID

import orjson

from . import releases
from .errors import (
    AgentBusyConflict,
    AgentBusyServerError,
    AuthenticationError,
    BadRequestError,
    CoderAPIError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RouteNotFoundError,
    ServerError,
    TaskNotActiveBadRequest,
    TaskNotActiveConflict,
    TaskNotActiveError,
    ValidationError,
)
from .models import Task, TaskStatus
from .settings import MAX_RETRY_AFTER, parse_retry_after

__all__ = [
    "API_ROOTS",
    "OWNER_ROUTE",
    "TASK_ROUTE",
    "ApiTree",
    "TaskRef",
    "build_query",
    "create_body",
    "error_from_response",
    "id_path",
    "id_text",
    "is_build_active",
    "is_invalid_uuid",
    "is_route_not_found",
    "name_ref",
    "query_keys",
    "segment",
    "server_takes_names",
    "task_id",
    "task_path",
    "validate_display_name",
    "validate_input",
    "validate_owner",
    "validate_task_name",
]

ApiTree = Literal["experimental", "v2"]

#: Where each tree lives, relative to the deployment URL.  Never ``/api/v2/api/experimental``.
API_ROOTS: Mapping[ApiTree, str] = {
    "experimental": "/api/experimental/tasks",
    "v2": "/api/v2/tasks",
}

#: Anything a caller may pass to address a task.
TaskRef = Task | UUID | str

ROUTE_NOT_FOUND = "Route not found."
AGENT_BUSY = "Task app is not ready to accept input."
BUILD_ACTIVE = "A workspace build is already active."
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The other spellings Go's uuid.Parse takes (matched lower-cased).
_HEX_UUID = re.compile(r"[0-9a-f]{32}")
_BRACED_UUID = re.compile(r"\{" + _CANONICAL_UUID.pattern + r"\}")
_URN_UUID = re.compile(r"urn:uuid:" + _CANONICAL_UUID.pattern)
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_~-]+")
_NAME_RE = re.compile(r"^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$")
_RESERVED_NAMES = frozenset({"new", "create"})
_LOGIN_HINT = "Try logging in using 'coder login'."
_MAX_DETAIL = 2048
#: The text of UUIDs named in paths lately, by their ``int`` (see :func:`id_text`).
_ID_TEXT: dict[int, str] = {}
_ID_TEXT_MAX = 1024


def id_text(value: UUID) -> str:
    """``str(value)``, remembered: a task's id goes into every path and span that names
    it, and ``UUID.__str__`` (Python code) cost ~2% of a whole ``get_task``.

    Keyed by the ``int`` (hashed in C; a UUID's own ``__hash__`` is Python code) and
    bounded: the cache is emptied when full.  A subclass of ``UUID`` is not cached.

    >>> id_text(UUID("A7F3C2E1-0B4D-4E8A-9C6F-1D2E3F4A5B6C"))
    'a7f3c2e1-0b4d-4e8a-9c6f-1d2e3f4a5b6c'
    """
    if type(value) is not UUID:
        return str(value)
    key = value.int
    text = _ID_TEXT.get(key)
    if text is None:
        if len(_ID_TEXT) >= _ID_TEXT_MAX:
            _ID_TEXT.clear()
        text = _ID_TEXT[key] = str(value)
    return text


def segment(value: str) -> str:
    """Percent-encode one path segment so no caller value can change the route.

    ``/``, ``?``, ``#`` and ``%`` are encoded, and a segment made only of dots
    (which URL normalisation would treat as ``.``/``..``) is encoded too.
    """
    if not value:
        raise ValueError("a path segment cannot be empty")
    if _PLAIN_SEGMENT.fullmatch(value):
        return value  # the common case (names, "me", UUIDs): nothing to encode
    encoded = quote(value, safe="")
    if set(encoded) == {"."}:
        encoded = "%2E" * len(encoded)
    return encoded


def validate_owner(owner: str | UUID) -> str:
    """An owner as Coder takes it in a path or a ``q`` filter: ``"me"``, a UUID (lower
    case), or a username in the shape Coder's usernames have (``codersdk.NameValid``:
    1-32 ASCII letters and digits in groups joined by single hyphens).  Anything else
    is a ``ValueError`` before any request.  No name is reserved here: Coder finds the
    user by ``LOWER(username)`` without checking the name, so ``"new"`` finds a user
    named ``New`` (the reserved ``new``/``create`` apply to task and user names).

    >>> validate_owner("Alice"), validate_owner("me"), validate_owner("new")
    ('Alice', 'me', 'new')
    """
    if owner == "me":
        return "me"  # the common case, first
    if isinstance(owner, UUID):
        return id_text(owner)
    if not isinstance(owner, str):
        raise TypeError(f"owner must be a str or UUID, not {type(owner).__name__}")
    text = owner.strip()
    if not text:
        raise ValueError("owner must not be empty (use 'me' for yourself)")
    if _CANONICAL_UUID.fullmatch(text.lower()):
        return text.lower()
    if len(text) > 32 or not _NAME_RE.fullmatch(text):
        raise ValueError(
            f"invalid owner {owner!r}: use 'me', a UUID or a username (1-32 ASCII letters and "
            "digits in groups joined by single hyphens)"
        )
    return text


def _owner_segment(owner: str | UUID) -> str:
    # A valid owner needs no percent-encoding: it is its own path segment.
    return validate_owner(owner)


def _uuid_text(text: str) -> str | None:
    """The path segment for ``text`` if Go's ``uuid.Parse`` takes it, else ``None``.

    The 32-hex form is sent as written (lower-cased): from v2.29 a UUID that is no
    task's id falls back to a name lookup, and a task may be named with 32 hex digits.
    """
    lowered = text.lower()
    if _CANONICAL_UUID.fullmatch(lowered) or _HEX_UUID.fullmatch(lowered):
        return lowered
    if _BRACED_UUID.fullmatch(lowered) or _URN_UUID.fullmatch(lowered):
        return str(UUID(lowered))
    return None


def _split_ref(text: str, owner: str | UUID) -> tuple[str | UUID, str, str | None]:
    """``(owner, task part, uuid segment or None)`` as Coder's ``TaskByIdentifier`` reads
    an identifier: a UUID, ``name``, ``owner/name`` or ``owner/uuid``; ``"/name"`` is
    ``me/name``; more than one ``/`` is an error."""
    found = _uuid_text(text)
    if found is not None:
        return owner, text, found
    parts = text.split("/")
    if len(parts) > 2:
        raise ValueError(
            f"invalid task reference {text!r}: more than one '/'; use a UUID, 'name' or "
            "'owner/name'"
        )
    if len(parts) == 2:
        owner_part, text = parts
        owner = owner_part or "me"
        if not text:
            raise ValueError(f"invalid task reference {'/'.join(parts)!r}: the task part is empty")
    return owner, text, _uuid_text(text)


def resolve_ref(ref: TaskRef, owner: str | UUID = "me") -> tuple[str, str]:
    """Turn a task reference into (owner segment, task segment), both encoded.

    Accepts what Coder's CLI accepts (``TaskByIdentifier``): a ``Task``, a ``UUID``, a
    UUID string, a ``name`` (looked up under ``owner``), ``"owner/name"``,
    ``"owner/<uuid>"`` and ``"/name"`` (``me/name``), surrounding spaces trimmed.
    Names and owners must follow Coder's rules (see :func:`validate_task_name`);
    anything else is a ``ValueError`` before any request, so no name can reach a
    proxy that might decode and normalise it.

    >>> resolve_ref("alice/fix-login")
    ('alice', 'fix-login')
    >>> resolve_ref("/fix-login")
    ('me', 'fix-login')
    """
    if isinstance(ref, Task):
        return id_text(ref.owner_id), id_text(ref.id)
    if isinstance(ref, UUID):
        return _owner_segment(owner), id_text(ref)
    if not isinstance(ref, str):
        raise TypeError(f"task reference must be a Task, UUID or str, not {type(ref).__name__}")
    text = ref.strip()
    if not text:
        raise ValueError("task reference must not be empty")
    if _CANONICAL_UUID.fullmatch(text):
        return _owner_segment(owner), text  # the common case, first
    named_owner, task, uuid_segment = _split_ref(text, owner)
    if uuid_segment is not None:
        return _owner_segment(named_owner), uuid_segment
    return _owner_segment(named_owner), segment(validate_task_name(task))


def name_ref(ref: TaskRef, owner: str | UUID = "me") -> tuple[str | UUID, str] | None:
    """``(owner, name)`` when ``ref`` addresses a task by name; ``None`` for an id.

    Servers before v2.29 take only a UUID in the path, so a name has to be looked
    up first; this tells the client when.

    >>> name_ref("alice/fix-login")
    ('alice', 'fix-login')
    """
    if isinstance(ref, Task | UUID):
        return None
    resolve_ref(ref, owner)  # the same validation and errors as any other call
    text = ref.strip()
    if _CANONICAL_UUID.fullmatch(text):
        return None
    named_owner, task, uuid_segment = _split_ref(text, owner)
    return None if uuid_segment is not None else (named_owner, task)


def server_takes_names(version: str | None) -> bool | None:
    """Whether a server of ``version`` (``X-Coder-Build-Version``) accepts task names in
    the path (v2.29+); ``None`` when the version says nothing (unknown, a dev build).

    >>> server_takes_names("v2.28.3"), server_takes_names("v2.29.0")
    (False, True)
    """
    return releases.has(version, "names_in_path")


def _message(body: bytes) -> str | None:
    """The ``message`` of a Coder error body, if it is one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    message = data.get("message") if isinstance(data, dict) else None
    return message if isinstance(message, str) else None


def is_invalid_uuid(status: int, body: bytes) -> bool:
    """The 400 an older server gives for a name where it wants a task UUID."""
    if status != 400 or b"Invalid UUID" not in body:
        return False
    return (_message(body) or "").startswith('Invalid UUID "')


#: The route templates below a tasks tree, as Coder's router names them (spans and
#: logs name a request by its template, never by its path): a task (plus ``/logs``,
#: ``/send``, ...) and an owner's tasks (create).  The list is the tree's root itself.
TASK_ROUTE = "/{user}/{task}"
OWNER_ROUTE = "/{user}"


def task_id(ref: TaskRef) -> str | None:
    """The task's id as text when ``ref`` names the task by its id, ``None`` for a name.

    >>> task_id("alice/fix-login") is None, task_id("00000000-0000-0000-0000-00000000000A")
    (True, '00000000-0000-0000-0000-00000000000a')
    """
    if isinstance(ref, Task):
        return id_text(ref.id)
    if isinstance(ref, UUID):
        return id_text(ref)
    if not isinstance(ref, str):
        return None
    text = ref.strip().rpartition("/")[2].lower()
    if _CANONICAL_UUID.fullmatch(text):
        return text
    if _BRACED_UUID.fullmatch(text) or _URN_UUID.fullmatch(text):
        return str(UUID(text))
    return None  # a name (32 hex digits may be one too)


def task_path(ref: TaskRef, owner: str | UUID = "me", suffix: str = "") -> str:
    """The encoded path of one task below the tasks tree (plus ``/send``, ``/logs``, ...).

    >>> task_path("bob/fix-login", suffix="/logs")
    '/bob/fix-login/logs'
    """
    owner_seg, task_seg = resolve_ref(ref, owner)
    return f"/{owner_seg}/{task_seg}{suffix}"


def id_path(ref: TaskRef, owner: str | UUID = "me") -> tuple[str, str | None] | None:
    """``(task_path(ref, owner), task_id(ref))`` when ``ref`` names a task by its id (every
    release takes that in the path); ``None`` for a name (see :func:`name_ref`).

    ``get_task``'s question, answered at once: what :func:`name_ref`, :func:`task_path`
    and :func:`task_id` would say in turn, each id turned into text once.

    >>> id_path(UUID("a7f3c2e1-0b4d-4e8a-9c6f-1d2e3f4a5b6c"))
    ('/me/a7f3c2e1-0b4d-4e8a-9c6f-1d2e3f4a5b6c', 'a7f3c2e1-0b4d-4e8a-9c6f-1d2e3f4a5b6c')
    >>> id_path("alice/fix-login") is None
    True
    """
    if isinstance(ref, UUID):
        text = id_text(ref)
        return f"/{'me' if owner == 'me' else _owner_segment(owner)}/{text}", text
    if isinstance(ref, Task):
        text = id_text(ref.id)
        return f"/{id_text(ref.owner_id)}/{text}", text
    if isinstance(ref, str) and _CANONICAL_UUID.fullmatch(text := ref.strip()):
        return f"/{_owner_segment(owner)}/{text}", text  # an id as text, the common string
    if name_ref(ref, owner) is not None:
        return None
    return task_path(ref, owner), task_id(ref)


def owner_path(owner: str | UUID) -> str:
    """The encoded path below the tasks tree for creating a task for ``owner``."""
    return f"/{_owner_segment(owner)}"


def _quoted(key: str, value: str) -> str:
    if '"' in value:
        raise ValueError(f"{key} filter must not contain a double quote: {value!r}")
    return f'{key}:"{value}"'


def _split_outside_quotes(text: str, delimiter: str) -> list[str]:
    """Coder's ``splitQueryParameterByDelimiter``: fields, quotes kept, empty ones dropped."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == delimiter and not quoted:
            if current:
                parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        parts.append("".join(current))
    return parts


def query_keys(query: str) -> dict[str, int]:
    """How often each key appears in a task search query, as Coder counts them: bare
    words together are one ``owner`` value.

    >>> query_keys('alice status:active')
    {'status': 1, 'owner': 1}
    """
    counts: dict[str, int] = {}
    bare = False
    for token in _split_outside_quotes(query.lower(), " "):
        if ":" not in token:
            bare = True
            continue
        parts = _split_outside_quotes(token, ":")
        if len(parts) == 2 and not token.startswith(":") and not token.endswith(":"):
            counts[parts[0].strip('"')] = counts.get(parts[0].strip('"'), 0) + 1
    if bare:
        counts["owner"] = counts.get("owner", 0) + 1
    return counts


def build_query(
    *,
    owner: str | UUID | None = "me",
    organization: str | UUID | None = None,
    status: TaskStatus | str | None = None,
    query: str | None = None,
) -> str:
    """Build ``q`` the way Coder's Go SDK does: quoted ``key:"value"`` terms, raw ``query`` last.

    Coder refuses a key given twice (400 ``provided more than once``) and reads bare
    words as the owner, so ``query`` and the arguments are merged: an owner named in
    ``query`` (``owner:bob`` or a bare word) replaces the default ``owner="me"``; the
    same key from both sides, or twice in ``query``, is a ``ValueError`` here.  An
    unknown ``status`` is refused here too: the real server answers it with a 500.

    >>> build_query(owner="me", status="active")
    'owner:"me" status:"active"'
    >>> build_query(query="alice")
    'alice'
    """
    raw = query.strip() if query else ""
    named = query_keys(raw) if raw else {}
    twice = sorted(k for k, n in named.items() if n > 1)
    if twice:
        raise ValueError(
            f"query names {', '.join(twice)} more than once (bare words count as the "
            f"owner); Coder refuses that: {raw!r}"
        )
    terms: list[str] = []
    if owner is not None and str(owner) != "":
        if "owner" not in named:
            terms.append(_quoted("owner", str(owner)))
        elif str(owner) != "me":
            raise ValueError(
                f"owner={str(owner)!r} and the query {raw!r} both name an owner (bare words "
                "count as the owner); give it once"
            )
    for key, value in (("organization", organization), ("status", status)):
        if value is None or str(value) == "":
            continue
        if key in named:
            raise ValueError(f"{key}= and the query {raw!r} both filter by {key}; give it once")
        text = str(value)
        if key == "status" and text not in TaskStatus._value2member_map_:
            known = ", ".join(s.value for s in TaskStatus)
            raise ValueError(f"unknown task status {text!r}; expected one of: {known}")
        terms.append(_quoted(key, text))
    if raw:
        terms.append(raw)
    return " ".join(terms)


def validate_input(text: str, what: str = "input") -> str:
    """Refuse an empty or blank prompt before sending it (the server would accept or 400 it)."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"{what} must not be empty or whitespace")
    return text


def validate_task_name(name: str) -> str:
    """Apply Coder's name rules (``codersdk.NameValid``): 1-32 ASCII letters/digits in
    groups joined by single hyphens, and not ``new`` or ``create`` (case-sensitively:
    ``New`` is a fine name).  The ``ValueError`` names the rule broken.

    >>> validate_task_name("fix-login")
    'fix-login'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    rule = _broken_name_rule(name)
    if rule:
        raise ValueError(
            f"invalid task name {name!r}: {rule} (a task name is 1-32 ASCII letters and "
            "digits in groups joined by single hyphens, and not 'new' or 'create')"
        )
    return name


def _broken_name_rule(name: str) -> str:
    size = len(name.encode())  # Go's len: bytes
    if not name:
        return "it is empty"
    if size > 32:
        return f"it has {size} bytes, more than 32"
    if name in _RESERVED_NAMES:
        return f"{name!r} is reserved"
    if not name.isascii() or not all(c.isalnum() or c == "-" for c in name):
        return "only ASCII letters, digits and hyphens are allowed"
    if not _NAME_RE.fullmatch(name):
        return "hyphens must sit between letters or digits, one at a time"
    return ""


def validate_display_name(display_name: str) -> str:
    """Coder's check of a display name: at most 64 bytes once trimmed (longer names are
    refused with 400 ``Display name must be 64 characters or less.``)."""
    if not isinstance(display_name, str):
        raise TypeError(f"display_name must be a str, not {type(display_name).__name__}")
    size = len(display_name.strip().encode())
    if size > 64:
        raise ValueError(
            f"display_name must be 64 characters or less once trimmed (it has {size} bytes)"
        )
    return display_name


def as_uuid(value: UUID | str, what: str) -> UUID:
    """A UUID argument: a ``UUID`` or its string form; anything else is a clear error."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value.strip())
        except ValueError:
            raise ValueError(f"{what} must be a UUID, got {value!r}") from None
    raise TypeError(f"{what} must be a UUID or str, not {type(value).__name__}")


def create_body(
    *,
    input: str,
    template_version_id: UUID | str,
    name: str | None,
    display_name: str | None,
    template_version_preset_id: UUID | str | None,
    server_version: str | None = None,
) -> bytes:
    """The create request body, every argument checked first (``ValueError``/``TypeError``);
    optional fields are left out, as Go's ``omitempty`` does.

    v2.26 read the prompt from ``prompt``, later releases from ``input``.  When the
    server's version is not known yet, both are sent: each release ignores the
    field it does not know, so the prompt is never silently lost.
    """
    validate_input(input)
    tv_id = as_uuid(template_version_id, "template_version_id")
    preset = template_version_preset_id
    if preset is not None:
        preset = as_uuid(preset, "template_version_preset_id")
    if name is not None:
        validate_task_name(name)
    if display_name is not None:
        validate_display_name(display_name)
    fields = _prompt_fields(server_version)
    body: dict[str, Any] = dict.fromkeys(fields, input)
    body["template_version_id"] = str(tv_id)
    if name:
        body["name"] = name
    if display_name:
        body["display_name"] = display_name
    if preset is not None:
        body["template_version_preset_id"] = str(preset)
    return orjson.dumps(body)


def _prompt_fields(version: str | None) -> tuple[str, ...]:
    takes_input = releases.has(version, "input_field")
    if takes_input is None:
        return ("input", "prompt")
    return ("input",) if takes_input else ("prompt",)


def input_body(text: str) -> bytes:
    """The body of ``/send`` and ``PATCH /input``."""
    return orjson.dumps({"input": text})


_BY_STATUS: Mapping[int, type[CoderAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    url: str,
    now: float | None = None,
    max_retry_after: float = MAX_RETRY_AFTER,
    redact: Callable[[str], str] | None = None,
) -> CoderAPIError:
    """Build the exception for a non-2xx response, as Coder's ``ReadBodyAsError`` does.

    Non-JSON bodies (a proxy's HTML page), empty bodies and bodies without a
    ``message`` still give a useful error; the raw text is kept in ``detail``.
    Any shape of JSON gives an error, never a ``TypeError`` (``validations`` that is
    not a list, fields of the wrong type).  ``redact`` scrubs the raw text *before* it
    is cut to length, so no secret straddling the cut survives in part.  A 429's
    ``retry_after`` is the sanitized ``Retry-After`` (see
    :func:`~coder_tasks_async._wire.settings.parse_retry_after`), at most ``max_retry_after``.
    """
    text = body.decode("utf-8", "replace")
    if redact is not None:
        text = redact(text)
    content_type = headers.get("Content-Type", "")
    message, detail, validations = _read_error_body(status, content_type, body, text)
    cls, task_status = _error_class(status, message, detail)
    common: dict[str, Any] = {
        "status": status,
        "message": message,
        "detail": detail,
        "validations": validations,
        "method": method,
        "url": url,
        "headers": headers,
        "body": _truncate(text, _MAX_DETAIL),
        "helper": _LOGIN_HINT if status == 401 else "",
    }
    if issubclass(cls, TaskNotActiveError):
        return cls(task_status=task_status, **common)
    if cls is RateLimitError:
        return RateLimitError(
            retry_after=parse_retry_after(
                headers.get("Retry-After"), now=now, maximum=max_retry_after
            ),
            **common,
        )
    return cls(**common)


def _read_error_body(
    status: int, content_type: str, body: bytes, text: str
) -> tuple[str, str, tuple[ValidationError, ...]]:
    """``(message, detail, validations)`` of an error body (``text``: its redacted text)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        detail = _truncate(text, _MAX_DETAIL) if text else "no response body"
        return f'unexpected non-JSON response "{content_type}"', detail, ()
    if not body.strip():
        return "empty response body", "", ()
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return f"invalid JSON error body ({exc})", _truncate(text, _MAX_DETAIL), ()
    message = detail = ""
    validations: tuple[ValidationError, ...] = ()
    if isinstance(data, dict):
        message = _text_field(data, "message")
        detail = _text_field(data, "detail")
        validations = _validations(data.get("validations"))
    if not message:
        message = f"unexpected status code {status}, response has no message"
        detail = detail or _truncate(text, 1024)
    return message, detail, validations


def _text_field(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _scalar_text(value: Any) -> str:
    """A string field as text; a number or bool as its text; nested JSON (whose ``str``
    could recurse past Python's limit) and a missing one as ``""``."""
    if isinstance(value, str):
        return value
    return "" if value is None or isinstance(value, list | dict) else str(value)


def _validations(raw: Any) -> tuple[ValidationError, ...]:
    """Coder's ``validations`` list; anything else (a number, a bool, an object) is none."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        ValidationError(field=_scalar_text(v.get("field")), detail=_scalar_text(v.get("detail")))
        for v in raw
        if isinstance(v, dict)
    )


def _error_class(status: int, message: str, detail: str) -> tuple[type[CoderAPIError], str | None]:
    """The error class for a status and message, and the task status a refusal names."""
    not_active, task_status = _not_active(status, message, detail)
    if not_active:
        return (TaskNotActiveConflict if status == 409 else TaskNotActiveBadRequest), task_status
    if message == AGENT_BUSY and status in (409, 502):
        return (AgentBusyConflict if status == 409 else AgentBusyServerError), None
    if status == 404 and message == ROUTE_NOT_FOUND:
        return RouteNotFoundError, None
    if status >= 500:
        return ServerError, None
    return _BY_STATUS.get(status, CoderAPIError), None


_STATUS_IN_DETAIL = re.compile(r'Task status is "([^"]*)"')
_NOT_ACTIVE_MESSAGES = {
    "Task status must be active.": None,  # before v2.31.1, 400; the detail names the status
    "Task must be active.": None,  # newer, 400 for error/unknown
    "Task is pending.": "pending",
    "Task is initializing.": "initializing",
    "Task is paused.": "paused",
    "Cannot fetch logs for task in current state.": None,  # newer, 409; detail names it
}


def _not_active(status: int, message: str, detail: str) -> tuple[bool, str | None]:
    """Whether this is a "task not active" refusal, and the task status it names."""
    if status not in (400, 409) or message not in _NOT_ACTIVE_MESSAGES:
        return False, None
    named = _NOT_ACTIVE_MESSAGES[message]
    if named is not None:
        return True, named
    found = _STATUS_IN_DETAIL.search(detail)
    return True, found.group(1) if found else None


def is_build_active(status: int, body: bytes) -> bool:
    """The 409 Coder gives while another workspace build of the task runs (the refusal
    of a delete, pause or resume that says only "not yet")."""
    return status == 409 and BUILD_ACTIVE.encode() in body and _message(body) == BUILD_ACTIVE


def is_route_not_found(status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """True for the 404 a server gives when the whole route tree is missing."""
    return status == 404 and _message(body) == ROUTE_NOT_FOUND
