"""Terminal colours for the CLI: when to use them, and how to paint heads and JSON.

Colours are on only when the stream is a terminal and ``NO_COLOR`` is not set (https://no-color.org),
or when the user forces them (``--color=always``, or ``FORCE_COLOR`` in the environment).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

__all__ = ["Painter", "TerminalText", "use_color", "visible"]

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
BLUE = "\x1b[34m"
MAGENTA = "\x1b[35m"
CYAN = "\x1b[36m"


# What a terminal would act on instead of showing: C0 controls (ESC starts every escape sequence:
# title, screen clear, OSC 52 clipboard writes), DEL, and the C1 controls (U+0080-U+009F; U+009B
# is a one-character CSI to some terminals). Tab is harmless, and kept.
_HEAD_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# In a text body, line ends are the text's own: \n, and \r only as part of \r\n (a lone \r
# returns the cursor and lets later text overwrite what was shown).
_BODY_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def _escape(m: re.Match[str]) -> str:
    return f"\\x{ord(m.group(0)):02x}"


def visible(text: str) -> str:
    """``text`` with every control character but tab shown as ``\\xNN`` (``\\x1b`` for ESC),
    so that a server's reason phrase or header cannot drive the terminal it is printed on."""
    return _HEAD_CONTROLS.sub(_escape, text) if _HEAD_CONTROLS.search(text) else text


class TerminalText:
    """Escapes control characters in a text body shown on a terminal, piece by piece: tab, ``\\n``
    and ``\\r\\n`` stay, every other control character is shown as ``\\xNN``."""

    def __init__(self) -> None:
        self._cr = False  # the previous piece ended with \r: it depends on what comes next

    def feed(self, text: str) -> str:
        if self._cr:
            text = "\r" + text
            self._cr = False
        if text.endswith("\r"):
            text = text[:-1]
            self._cr = True
        return _BODY_CONTROLS.sub(_escape, text)

    def finish(self) -> str:
        """What is held back at the end of the body."""
        if self._cr:
            self._cr = False
            return "\\x0d"
        return ""


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
        # json.dumps escapes C0 controls in strings, not DEL or C1 ones: those are escaped here.
        text = _BODY_CONTROLS.sub(_escape, json.dumps(value, indent=2, ensure_ascii=False))
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
