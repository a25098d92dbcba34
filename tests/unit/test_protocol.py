"""The pure protocol core: paths, references, q, bodies, error decoding."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from helpers import TESTS

from coder_tasks_async import (
    AuthenticationError,
    BadRequestError,
    CoderAPIError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RouteNotFoundError,
    ServerError,
    Task,
)
from coder_tasks_async._wire.converter import decode
from coder_tasks_async._wire.protocol import (
    build_query,
    create_body,
    error_from_response,
    resolve_ref,
    segment,
    task_path,
    validate_input,
    validate_task_name,
)

FIXTURES = TESTS / "fixtures" / "v2.28"
TASK_ID = "89fb1806-dc3f-4287-aa16-2b8dc835698d"
JSON = {"Content-Type": "application/json; charset=utf-8"}


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("maria", "maria"),
        ("a b?c#d", "a%20b%3Fc%23d"),
        ("x/y", "x%2Fy"),
        ("100%", "100%25"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("ünï", "%C3%BCn%C3%AF"),
    ],
)
def test_segment_cannot_change_the_route(raw: str, encoded: str) -> None:
    assert segment(raw) == encoded


def test_segment_refuses_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        segment("")


def test_references_like_the_go_sdk() -> None:
    assert resolve_ref("fix-login") == ("me", "fix-login")
    assert resolve_ref("bob/fix-login") == ("bob", "fix-login")
    assert resolve_ref(TASK_ID.upper()) == ("me", TASK_ID)
    assert resolve_ref(UUID(TASK_ID), owner="bob") == ("bob", TASK_ID)
    assert resolve_ref("fix-login", owner="bob-2") == ("bob-2", "fix-login")
    task = decode((FIXTURES / "task.json").read_bytes(), Task)
    assert resolve_ref(task) == (str(task.owner_id), str(task.id))


# "/name" is me/name, as Coder's splitTaskIdentifier reads it ("empty parts acceptable").
@pytest.mark.parametrize("bad", ["a/b/c", "owner/", "", "   "])
def test_bad_references_are_value_errors(bad: str) -> None:
    with pytest.raises(ValueError, match="task reference"):
        resolve_ref(bad)


def test_reference_type_errors() -> None:
    with pytest.raises(TypeError):
        resolve_ref(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="owner"):
        resolve_ref("x", owner=" ")


def test_task_path() -> None:
    assert task_path("bob/x", suffix="/logs") == "/bob/x/logs"


def test_query_is_built_like_the_go_sdk() -> None:
    assert build_query() == 'owner:"me"'
    assert build_query(owner=None) == ""
    assert (
        build_query(owner="maria", organization="coder", status="active", query="foo:bar")
        == 'owner:"maria" organization:"coder" status:"active" foo:bar'
    )


def test_unknown_status_filter_is_refused_locally() -> None:
    with pytest.raises(ValueError, match="unknown task status 'running'"):
        build_query(status="running")


def test_quote_in_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="double quote"):
        build_query(owner='a"b')


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_input_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="input"):
        validate_input(text)


@pytest.mark.parametrize("name", ["ok", "a-b-c", "A1", "x" * 32])
def test_valid_names(name: str) -> None:
    assert validate_task_name(name) == name


# "Create" is a valid name: Coder's reserved-word check is case-sensitive.
@pytest.mark.parametrize(
    "name", ["", "-a", "a-", "a--b", "a_b", "x" * 33, "new", "create", "ü", "abc\n"]
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid task name"):
        validate_task_name(name)


def test_create_body_omits_empty_optionals() -> None:
    tv = UUID("09c9c31a-e2f9-4909-b4a3-cc3052800e04")
    body = json.loads(
        create_body(
            input="hi",
            template_version_id=tv,
            name=None,
            display_name=None,
            template_version_preset_id=None,
        )
    )
    # Until the server's version is known both prompt fields go out (v2.26 reads "prompt").
    assert body == {"input": "hi", "prompt": "hi", "template_version_id": str(tv)}


@pytest.mark.parametrize(
    ("version", "fields"),
    [
        (None, {"input", "prompt"}),
        ("v0.0.0-devel", {"input", "prompt"}),
        ("v2.26.3", {"prompt"}),
        ("v2.27.0", {"input"}),
        ("v2.32.0", {"input"}),
    ],
)
def test_create_body_prompt_field_follows_the_release(
    version: str | None, fields: set[str]
) -> None:
    tv = UUID("09c9c31a-e2f9-4909-b4a3-cc3052800e04")
    body = json.loads(
        create_body(
            input="hi",
            template_version_id=tv,
            name=None,
            display_name=None,
            template_version_preset_id=None,
            server_version=version,
        )
    )
    assert set(body) - {"template_version_id"} == fields
    assert all(body[f] == "hi" for f in fields)


def error(status: int, body: bytes, headers: dict[str, str] | None = None) -> CoderAPIError:
    return error_from_response(
        status, headers if headers is not None else JSON, body, method="GET", url="http://c/x"
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (418, CoderAPIError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[CoderAPIError]) -> None:
    exc = error(status, b'{"message":"m"}')
    assert type(exc) is cls
    assert exc.status == status


def test_validations_and_detail_from_fixture() -> None:
    exc = error(400, (FIXTURES / "error_400.json").read_bytes())
    assert exc.message == "Invalid task search query."
    assert [v.field for v in exc.validations] == ["owner", "template"]
    text = str(exc)
    assert text.startswith("GET http://c/x: unexpected status code 400: Invalid task search query.")
    assert "\n\towner: Query param" in text


def test_route_not_found_is_its_own_class() -> None:
    assert type(error(404, b'{"message":"Route not found."}\n')) is RouteNotFoundError
    assert type(error(404, (FIXTURES / "error_404.json").read_bytes())) is NotFoundError


def test_401_carries_the_login_hint() -> None:
    exc = error(401, b'{"message":"You are signed out.","detail":"API key is invalid."}')
    assert "Try logging in using 'coder login'." in str(exc)
    assert exc.detail == "API key is invalid."


def test_429_retry_after() -> None:
    exc = error(429, b'{"message":"slow down"}', {**JSON, "Retry-After": "60"})
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 60.0


def test_non_json_body_like_a_proxy_page() -> None:
    exc = error(502, b"<html>Bad gateway</html>", {"Content-Type": "text/html"})
    assert exc.message == 'unexpected non-JSON response "text/html"'
    assert exc.detail == "<html>Bad gateway</html>"
    empty = error(428, b"", {"Content-Type": "text/plain"})
    assert empty.detail == "no response body"


def test_empty_json_body_and_missing_message() -> None:
    assert error(500, b"").message == "empty response body"
    exc = error(500, b'{"detail":"x"}')
    assert exc.message == "unexpected status code 500, response has no message"
    assert exc.detail == "x"
    garbled = error(500, b"{not json")
    assert garbled.message.startswith("invalid JSON error body")


def test_api_errors_pickle_round_trip() -> None:
    import pickle

    exc = error(429, b'{"message":"slow"}', {**JSON, "Retry-After": "3"})
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is RateLimitError
    assert again.retry_after == 3.0
    assert str(again) == str(exc)
