"""Type to find in a picker: what a user types of a name moves the cursor to it.

One implementation for every picker (the scenario library, the suite, remedy and stimulus
pickers): the cursor goes to the first name that starts with what was typed, else to the first
that contains it; the title shows ``find: ...`` and ``(no match)`` when nothing does; Backspace
takes a character back. The typed keys stop at the picker, so the app's own keys (``q`` quits
the TUI) do not fire while a name is typed."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events

FIND_CHARS = "-_.:"
"""What a name holds besides letters and digits (and a space, once something is typed:
``insert-note 20``)."""


class TypeToFind:
    """What was typed of a name, and where it points in a picker's names."""

    def __init__(self) -> None:
        self.text = ""
        self.found: int | None = None
        """The index of the name what was typed points to (None: no match, or nothing typed)."""

    def key(self, event: events.Key, names: Sequence[str]) -> bool:
        """Whether ``event`` types (or takes back) a character of a name; if so it is stopped
        and :attr:`found` says where the cursor goes. Any other key is left alone."""
        char = event.character or ""
        if event.key == "backspace" and self.text:
            self.text = self.text[:-1]
        elif len(char) == 1 and (
            char.isalnum() or char in FIND_CHARS or (char == " " and self.text)
        ):
            self.text += char.lower()
        else:
            return False
        event.stop()
        event.prevent_default()
        self.found = self._find([n.lower() for n in names]) if self.text else None
        return True

    def _find(self, names: list[str]) -> int | None:
        found = next((i for i, n in enumerate(names) if n.startswith(self.text)), None)
        if found is None:
            found = next((i for i, n in enumerate(names) if self.text in n), None)
        return found

    def title(self, title: str) -> str:
        """``title`` with what was typed after it (and ``(no match)`` when nothing has it)."""
        if not self.text:
            return title
        missing = "" if self.found is not None else " (no match)"
        return f"{title}   find: {self.text}{missing}"
