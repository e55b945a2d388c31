"""Textual's key footer, made cheaper to build: each key is told the footer's compactness before
it mounts.

Textual's ``FooterKey`` starts compact and is then bound to its footer's (not compact) style, so
each key restyles itself twice on mount; a footer of 17 keys cost about 50 ms of CPU on the first
frame, and again each time the bindings change (a screen shown, a fan-out started). Set before
mount, the value is already the one Textual would give it and neither watcher runs. Keys in a
binding group (none here yet) keep Textual's own path.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    """The screen's key bindings along the bottom line, as Textual draws them."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # the command palette's key is not bound to the footer: Textual leaves it compact
                compact = self.compact or widget.has_class("-command-palette")
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
