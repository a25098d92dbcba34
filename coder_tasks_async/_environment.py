"""Where connection settings come from: arguments, environment, the Coder CLI's config dir."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from attrs import define
from yarl import URL

__all__ = ["Settings", "default_config_dir", "settings_from_env"]

URL_ENV = "CODER_URL"
TOKEN_ENV = "CODER_SESSION_TOKEN"
CONFIG_DIR_ENV = "CODER_CONFIG_DIR"


@define(frozen=True, kw_only=True)
class Settings:
    """A deployment URL and session token, and where each was found (for error messages)."""

    url: str
    token: str
    url_source: str
    token_source: str

    def __repr__(self) -> str:
        # The token is deliberately absent, and so is any userinfo in the URL.
        return f"Settings(url={_without_userinfo(self.url)!r}, url_source={self.url_source!r})"


def _without_userinfo(url: str) -> str:
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return "<unparsable URL>"
    return str(parsed.with_user(None).with_password(None)) if parsed.user else url


def default_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The Coder CLI's config dir: ``$CODER_CONFIG_DIR`` or ``<user config dir>/coderv2``."""
    env = os.environ if env is None else env
    explicit = env.get(CONFIG_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    # Same base as Go's os.UserConfigDir(), which the Coder CLI uses.
    if sys.platform == "win32":  # pragma: no cover - platform specific
        base = Path(env.get("APPDATA", "~\\AppData\\Roaming"))
    elif sys.platform == "darwin":  # pragma: no cover - platform specific
        base = Path("~/Library/Application Support")
    else:
        base = Path(env.get("XDG_CONFIG_HOME", "").strip() or "~/.config")
    return (base / "coderv2").expanduser()


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return text or None


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Resolve URL and token: environment variables first, then the CLI's ``url``/``session`` files.

    Raises ``ValueError`` naming every place that was looked at when one is missing.
    """
    env = os.environ if env is None else env
    config_dir = default_config_dir(env)
    url, url_source = env.get(URL_ENV, "").strip(), f"${URL_ENV}"
    if not url:
        url, url_source = _read(config_dir / "url") or "", str(config_dir / "url")
    token, token_source = env.get(TOKEN_ENV, "").strip(), f"${TOKEN_ENV}"
    if not token:
        token, token_source = _read(config_dir / "session") or "", str(config_dir / "session")
    missing = []
    if not url:
        missing.append(f"the deployment URL (set ${URL_ENV} or write {config_dir / 'url'})")
    if not token:
        missing.append(
            f"a session token (set ${TOKEN_ENV} or run `coder login`, which writes "
            f"{config_dir / 'session'})"
        )
    if missing:
        raise ValueError("cannot configure the Coder client: missing " + " and ".join(missing))
    return Settings(url=url, token=token, url_source=url_source, token_source=token_source)
