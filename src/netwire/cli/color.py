"""Terminal colours for the CLI: when to use them, and how to paint heads and JSON.

Colours are on only when the stream is a terminal and ``NO_COLOR`` is not set (https://no-color.org),
or when the user forces them (``--color=always``, or ``FORCE_COLOR`` in the environment).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

__all__ = ["Painter", "use_color"]

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
BLUE = "\x1b[34m"
MAGENTA = "\x1b[35m"
CYAN = "\x1b[36m"


def is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def use_color(stream: Any, when: str = "auto") -> bool:
    """Whether to colour what goes to ``stream``: ``when`` is "auto", "always" or "never"."""
    if when == "always":
        return True
    if when == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return is_tty(stream) and os.environ.get("TERM") != "dumb"


class Painter:
    """Wraps text in ANSI colours when enabled, and returns it unchanged otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        return "".join(styles) + text + RESET

    def status_line(self, http_version: str, status: int, reason: str) -> str:
        if status < 300:
            color = GREEN
        elif status < 400:
            color = YELLOW
        else:
            color = RED
        version = self.paint(f"HTTP/{http_version}", BLUE)
        return f"{version} {self.paint(f'{status} {reason}'.rstrip(), BOLD, color)}"

    def header(self, name: str, value: str) -> str:
        return f"{self.paint(name, CYAN)}: {value}"

    def warning(self, text: str) -> str:
        return self.paint(text, BOLD, RED)

    def note(self, text: str) -> str:
        return self.paint(text, DIM)

    def json(self, value: Any) -> str:
        """``value`` as indented JSON, keys and scalars coloured when enabled."""
        text = json.dumps(value, indent=2, ensure_ascii=False)
        if not self.enabled:
            return text
        return _JSON_TOKEN.sub(self._json_token, text)

    def _json_token(self, m: re.Match[str]) -> str:
        token = m.group(0)
        if m.group("key"):
            return self.paint(m.group("key"), BLUE) + m.group("colon")
        if token.startswith('"'):
            return self.paint(token, GREEN)
        if token in ("true", "false", "null"):
            return self.paint(token, MAGENTA)
        return self.paint(token, YELLOW)


# Strings (a key when a colon follows), numbers and literals of json.dumps output.
_JSON_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null'
)
