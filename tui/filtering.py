"""The fleet's filter as k9s users know it: a case-insensitive regular expression typed after
``/``, a leading ``!`` to keep the rows that do *not* match; text that is not a valid expression
is matched literally, so typing never raises."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowFilter:
    """A compiled filter; ``match(text)`` says whether a row stays."""

    text: str
    inverted: bool
    pattern: re.Pattern[str] | None
    literal: bool  # the text was not a valid regular expression

    @classmethod
    def parse(cls, text: str) -> RowFilter:
        """``"paper"``, ``"KSK-00[12]"``, ``"!pass"``; empty (or a lone ``!``) keeps everything."""
        inverted = text.startswith("!")
        body = text[1:] if inverted else text
        if not body:
            return cls(text, inverted, None, False)
        try:
            return cls(text, inverted, re.compile(body, re.IGNORECASE), False)
        except re.error:
            return cls(text, inverted, re.compile(re.escape(body), re.IGNORECASE), True)

    def match(self, text: str) -> bool:
        if self.pattern is None:
            return True
        return (self.pattern.search(text) is not None) != self.inverted

    def apply(self, texts: Sequence[str]) -> list[int]:
        """Indexes of the rows that stay, in order."""
        if self.pattern is None:
            return list(range(len(texts)))
        search: Callable[[str], object] = self.pattern.search
        if self.inverted:
            return [i for i, t in enumerate(texts) if search(t) is None]
        return [i for i, t in enumerate(texts) if search(t) is not None]
