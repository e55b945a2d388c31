"""The k9s-style filter: regex, ``!`` to invert, literal text when the regex is not valid."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.filtering import RowFilter

ROWS = [
    "KSK-0001 bill_payment pass",
    "KSK-0002 ticketing fail printer.offline",
    "KSK-0010 parcel never",
]


def test_regex_invert_and_literal_fallback() -> None:
    assert RowFilter.parse("").apply(ROWS) == [0, 1, 2]
    assert RowFilter.parse("!").apply(ROWS) == [0, 1, 2]
    assert RowFilter.parse("ksk-000[12]").apply(ROWS) == [0, 1]
    assert RowFilter.parse("!pass|never").apply(ROWS) == [1]
    literal = RowFilter.parse("printer.offline(")
    assert literal.literal and literal.apply(ROWS) == []
    assert RowFilter.parse("KSK-00(").literal
    assert RowFilter.parse("PRINTER").apply(ROWS) == [1]


@given(st.text(max_size=12), st.lists(st.text(max_size=20), max_size=20))
def test_any_typed_text_filters_without_raising_and_invert_is_the_complement(
    typed: str, rows: list[str]
) -> None:
    body = typed.lstrip("!")
    kept = set(RowFilter.parse(body).apply(rows))
    dropped = set(RowFilter.parse("!" + body).apply(rows))
    if body:
        assert kept | dropped == set(range(len(rows))) and not kept & dropped
