"""What a terminal id may be: a directory name under a kiosk state dir, the SSH login name and the
principal the support CA signs. One rule, so that every terminal a kiosk host starts can be
granted a remote window."""

from __future__ import annotations

import re

from workbench.errors import ConfigError

TERMINAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""Matched with ``fullmatch`` (anchored at both ends: ``$`` alone lets a trailing newline in)."""


def check_terminal_id(terminal: str) -> str:
    """Return ``terminal`` or refuse it (empty, spaces, commas, path separators, newlines...)."""
    if not isinstance(terminal, str) or TERMINAL_ID.fullmatch(terminal) is None:
        raise ConfigError(
            f"terminal id(={terminal!r}) must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return terminal
