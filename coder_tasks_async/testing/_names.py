"""Task names: coderd's validation rule and the names it generates when none is given.

``codersdk.NameValid`` counts bytes (Go's ``len``) and anchors its pattern with Go's
``$``, which matches only at the very end (``"abc\\n"`` is refused).  Without a name,
v2.29+ derives one from the prompt (``taskname.generateFromPrompt``, what a server
without an Anthropic key does) and falls back to a docker-style name; older releases
always used ``task-<adjective>-<scientist>-<4 hex>``.
"""

from __future__ import annotations

import random
import re

__all__ = ["display_name_error", "generate_name", "name_error", "names_from_prompt"]

# codersdk.UsernameValidRegex; ``fullmatch`` gives Go's end-of-text ``$``.
_NAME_RE = re.compile(r"[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*")

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
_CONTROL = re.compile(r"[\n\r\t]+")
# RE2's \s is ASCII whitespace only.
_SPACES = re.compile(r"[\t\n\f\r ]+")
_NOT_NAME = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-+")


def name_error(name: str) -> str | None:
    """``codersdk.NameValid``: the error text for an invalid name, or ``None`` when valid."""
    size = len(name.encode())
    if size > 32:
        return "must be <= 32 characters"
    if size < 1:
        return "must be >= 1 character"
    # coderd refuses these (case-sensitively) to avoid clashing with routes like /templates/new.
    if name in ("new", "create"):
        return f'cannot use "{name}" as a name'
    if not _NAME_RE.fullmatch(name):
        return "must be alphanumeric with hyphens"
    return None


def display_name_error(display_name: str) -> str | None:
    """The create handler's check: trimmed, at most 64 *bytes* (Go's ``len``)."""
    if len(display_name.strip().encode()) > 64:
        return "Display name must be 64 characters or less."
    return None


def _suffix(rng: random.Random) -> str:
    return f"{rng.getrandbits(16):04x}"


def generate_name(rng: random.Random, *, prefix: bool) -> str:
    """``task-<adjective>-<scientist>-<4 hex>`` (before v2.29) or without ``task-`` (v2.29+)."""
    name = f"{rng.choice(_ADJECTIVES)}-{rng.choice(_SCIENTISTS)}-{_suffix(rng)}"
    return f"task-{name}" if prefix else name


def _truncate_words(text: str, limit: int, *, ellipsis: bool) -> str:
    """``strutil.Truncate`` with full words: at most ``limit`` runes, cut at a space."""
    if len(text) <= limit:
        return text
    keep = limit - 1 if ellipsis else limit
    head = text[:keep]
    cut = max((i for i, ch in enumerate(head) if ch.isspace()), default=-1)
    out = head if cut < 0 else head[:cut]
    return out + "…" if ellipsis else out


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def names_from_prompt(prompt: str, rng: random.Random) -> tuple[str, str]:
    """``(name, display name)`` as v2.29+ makes them without an LLM key.

    ``"Create a finance planning tool"`` → ``("create-a-finance-planning-1a2b",
    "Create a finance planning tool")``; a prompt with no usable letters falls back
    to a docker-style name whose display name is that name with spaces.
    """
    flat = _CONTROL.sub(" ", prompt)
    # Go compares the byte length before truncating to 27 runes.
    short = _truncate_words(flat, 27, ellipsis=False) if len(flat.encode()) > 27 else flat
    name = _SPACES.sub("-", short.lower())
    name = _HYPHENS.sub("-", _NOT_NAME.sub("", name)).strip("-")
    if name:
        display = _truncate_words(flat, 64, ellipsis=True).strip() or name.replace("-", " ")
        return f"{name}-{_suffix(rng)}", _capitalize(display)
    base = f"{rng.choice(_ADJECTIVES)}-{rng.choice(_SCIENTISTS)}"[:27].rstrip("-")
    return f"{base}-{_suffix(rng)}", _capitalize(base.replace("-", " "))
