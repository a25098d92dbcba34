"""from_env precedence: environment first, then the Coder CLI config dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from coder_tasks_async import CoderTasksClient
from coder_tasks_async._environment import default_config_dir, settings_from_env

TOKEN = "AbCdEfGhIj-0123456789abcdefghijkl"


def write_config(directory: Path, url: str | None, token: str | None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if url is not None:
        (directory / "url").write_text(url + "\n")
    if token is not None:
        (directory / "session").write_text(token + "\n")


def test_environment_wins_over_config_dir(tmp_path: Path) -> None:
    write_config(tmp_path, "https://from-file.example", "file-token")
    env = {
        "CODER_URL": "https://from-env.example",
        "CODER_SESSION_TOKEN": TOKEN,
        "CODER_CONFIG_DIR": str(tmp_path),
    }
    settings = settings_from_env(env)
    assert settings.url == "https://from-env.example"
    assert settings.token == TOKEN
    assert settings.url_source == "$CODER_URL"


def test_config_dir_fallback_per_value(tmp_path: Path) -> None:
    write_config(tmp_path, "https://from-file.example", "file-token")
    settings = settings_from_env(
        {"CODER_URL": "https://env.example", "CODER_CONFIG_DIR": str(tmp_path)}
    )
    assert settings.url == "https://env.example"
    assert settings.token == "file-token"
    assert settings.token_source == str(tmp_path / "session")
    assert "file-token" not in repr(settings)


def test_default_config_dir_follows_xdg(tmp_path: Path) -> None:
    assert default_config_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "coderv2"
    write_config(tmp_path / "coderv2", "https://xdg.example", TOKEN)
    assert settings_from_env({"XDG_CONFIG_HOME": str(tmp_path)}).url == "https://xdg.example"


def test_missing_everything_names_what_and_where(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing") as info:
        settings_from_env({"CODER_CONFIG_DIR": str(tmp_path / "nowhere")})
    text = str(info.value)
    assert "CODER_URL" in text and "CODER_SESSION_TOKEN" in text and "coder login" in text
    assert str(tmp_path / "nowhere" / "url") in text


def test_missing_token_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="session token") as info:
        settings_from_env({"CODER_URL": "https://x.example", "CODER_CONFIG_DIR": str(tmp_path)})
    assert "deployment URL" not in str(info.value)


def test_client_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODER_URL", "https://coder.example.com/")
    monkeypatch.setenv("CODER_SESSION_TOKEN", TOKEN)
    client = CoderTasksClient.from_env(api="experimental")
    assert client.url == "https://coder.example.com"
    assert client.api == "experimental"
    assert TOKEN not in repr(client)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("coder.example.com", "http"),
        ("ftp://coder.example.com", "http"),
        ("https://coder.example.com/api/v2", "deployment root"),
        ("https://coder.example.com/api", "deployment root"),
        ("https://coder.example.com/?x=1", "query"),
    ],
)
def test_bad_base_urls(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CoderTasksClient(url, token=TOKEN)


@pytest.mark.parametrize("token", ["", "  ", "abc\r\nX-Evil: 1", "a\nb"])
def test_bad_tokens(token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        CoderTasksClient("https://coder.example.com", token=token)


def test_bad_api_choice() -> None:
    with pytest.raises(ValueError, match="api"):
        CoderTasksClient("https://coder.example.com", token=TOKEN, api="v3")  # type: ignore[arg-type]


def test_userinfo_never_shown() -> None:
    client = CoderTasksClient("https://user:hunter2@coder.example.com", token=TOKEN)
    assert "hunter2" not in repr(client)
    assert "hunter2" not in client.url


def test_settings_repr_hides_url_userinfo(tmp_path: Path) -> None:
    env = {"CODER_URL": "https://user:hunter2@coder.example.com", "CODER_SESSION_TOKEN": TOKEN}
    text = repr(settings_from_env(env))
    assert "hunter2" not in text
    assert TOKEN not in text
    assert "coder.example.com" in text
