"""The footer shows the same keys as Textual's, compact or not, without each key restyling
itself on mount (Textual's keys restyle twice each: a footer's worth of style passes on every
screen shown). It leans on ``FooterKey.compact``, a private detail of the pinned Textual: these
tests fail on an upgrade that changes it."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.widgets import Footer as TextualFooter
from textual.widgets import Label
from textual.widgets._footer import FooterKey

from tui.widgets.footer import Footer

pytestmark = pytest.mark.timeout(30)


class Keys(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("i", "inspect", "Inspect marked"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, footer: type[TextualFooter], compact: bool) -> None:
        super().__init__()
        self.footer_type, self.compact = footer, compact
        self.restyled: list[DOMNode] = []

    def compose(self) -> ComposeResult:
        yield Label("keys")
        yield self.footer_type(compact=self.compact)

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        self.restyled.append(node)
        super().update_styles(node, animate)


async def _footer(footer: type[TextualFooter], compact: bool) -> dict[str, Any]:
    app = Keys(footer, compact)
    async with app.run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        keys = list(app.query(FooterKey))
        return {
            "keys": [
                (k.key_display, k.description, k.compact, k.has_class("-compact")) for k in keys
            ],
            "text": [str(k.render()) for k in keys],
            "key_restyles": sum(isinstance(n, FooterKey) for n in app.restyled),
        }


@pytest.mark.parametrize("compact", [False, True])
async def test_same_keys_as_textuals_footer_without_restyling_them(compact: bool) -> None:
    ours = await _footer(Footer, compact)
    textuals = await _footer(TextualFooter, compact)
    assert ours["keys"] == textuals["keys"]
    assert [k[:2] for k in ours["keys"]][:4] == [
        ("/", "Filter"),
        ("s", "Sort"),
        ("i", "Inspect marked"),
        ("q", "Quit"),
    ]
    assert all(k[2] is compact and k[3] is compact for k in ours["keys"][:4])
    assert ours["text"] == textuals["text"]
    assert textuals["key_restyles"] >= len(textuals["keys"])  # what the footer saves
    assert ours["key_restyles"] == 0
