"""Task names: coderd's validation rule and its docker-style generated names."""

from __future__ import annotations

import random
import re

__all__ = ["generate_name", "name_error"]

# codersdk.UsernameValidRegex, which NameValid uses for workspace/task names.
_NAME_RE = re.compile(r"^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$")

# Short words so "task-<adjective>-<scientist>-<4 hex>" always fits in 32 characters.
_ADJECTIVES = (
    "admiring", "amazing", "bold", "brave", "busy", "clever", "cool", "eager", "ecstatic",
    "elated", "epic", "focused", "gallant", "gifted", "happy", "hardcore", "jolly", "keen",
    "kind", "laughing", "loving", "lucid", "modest", "nifty", "peaceful", "quirky", "relaxed",
    "serene", "sharp", "stoic", "sweet", "tender", "upbeat", "vibrant", "wizardly", "zealous",
)  # fmt: skip
_SCIENTISTS = (
    "agnesi", "albattani", "archimedes", "babbage", "bardeen", "bose", "curie", "darwin",
    "dijkstra", "einstein", "euclid", "fermat", "feynman", "galileo", "gauss", "goldberg",
    "hawking", "herschel", "hopper", "hypatia", "kepler", "knuth", "lamarr", "lovelace",
    "mccarthy", "meitner", "newton", "noether", "pascal", "ritchie", "shannon", "tesla",
    "thompson", "turing", "wozniak", "yalow",
)  # fmt: skip


def name_error(name: str) -> str | None:
    """``codersdk.NameValid``: the error text for an invalid name, or ``None`` when valid."""
    if len(name) > 32:
        return "must be <= 32 characters"
    if len(name) < 1:
        return "must be >= 1 character"
    # coderd refuses these to avoid clashing with routes like /templates/new.
    if name in ("new", "create"):
        return f'cannot use "{name}" as a name'
    if not _NAME_RE.match(name):
        return "must be alphanumeric with hyphens"
    return None


def generate_name(rng: random.Random, *, prefix: bool) -> str:
    """``task-<adjective>-<scientist>-<4 hex>`` (before v2.29) or without ``task-`` (v2.29+)."""
    name = f"{rng.choice(_ADJECTIVES)}-{rng.choice(_SCIENTISTS)}-{rng.getrandbits(16):04x}"
    return f"task-{name}" if prefix else name
