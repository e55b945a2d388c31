"""The ESC/POS codec: the exact bytes python-escpos emits parse into the commands they mean,
messages round-trip, a stream split anywhere parses the same, replies have Epson's layout,
and random bytes never raise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.protocols import escpos as p
from devices.protocols import escpos_status as s
from workbench.errors import ProtocolError


def merged(msgs: list[p.Message]) -> list[p.Message]:
    """Adjacent text runs joined (a stream split inside text yields several runs)."""
    out: list[p.Message] = []
    for m in msgs:
        if out and isinstance(m, p.Text) and isinstance(out[-1], p.Text):
            out[-1] = p.Text(out[-1].data + m.data)
        else:
            out.append(m)
    return out


# -- known vectors: python-escpos 3.1's output, captured with escpos.printer.Dummy ------------------
def test_text_and_styles_from_python_escpos() -> None:
    # hw("INIT"); set(align="center", bold=True, double_height=True); text("Hello\n")
    data = b"\x1b@\x1b!\x00\x1b!\x00\x1b!\x10\x1bE\x01\x1ba\x01\x1bt\x00Hello\n"
    assert p.parse(data) == [
        p.Command(b"\x1b@"),
        p.Command(b"\x1b!", b"\x00"),
        p.Command(b"\x1b!", b"\x00"),
        p.Command(b"\x1b!", b"\x10"),
        p.Command(b"\x1bE", b"\x01"),
        p.Command(b"\x1ba", b"\x01"),
        p.Command(b"\x1bt", b"\x00"),
        p.Text(b"Hello\n"),
    ]
    assert [m.name for m in p.parse(data)[:7] if isinstance(m, p.Command)] == [
        "init", "print_mode", "print_mode", "print_mode", "bold", "align", "codepage",
    ]  # fmt: skip


def test_code_page_switch_inside_text() -> None:
    # textln("Prix: 12,50 € ü"): the euro sign needs code page 15, u-umlaut is back in 0
    data = b"Prix: 12,50 \x1bt\x0f\xa4 \x1bt\x00\x81\n"
    assert p.parse(data) == [
        p.Text(b"Prix: 12,50 "),
        p.Command(b"\x1bt", b"\x0f"),
        p.Text(b"\xa4 "),
        p.Command(b"\x1bt", b"\x00"),
        p.Text(b"\x81\n"),
    ]


def test_barcode_function_a_and_b() -> None:
    a = b"\x1ba\x01\x1dh@\x1dw\x03\x1df\x00\x1dH\x02\x1dk\x024006381333931\x00"
    assert p.parse(a)[-1] == p.Barcode(2, b"4006381333931")
    assert [m.name for m in p.parse(a)[1:5] if isinstance(m, p.Command)] == [
        "barcode_height", "barcode_width", "hri_font", "hri_position",
    ]  # fmt: skip
    b = b"\x1dkI\x08{B012345"
    assert p.parse(b) == [p.Barcode(73, b"{B012345")]


def test_native_qr_store_and_print() -> None:
    data = (
        b"\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x03\x1d(k\x03\x001E0"
        b"\x1d(k\x08\x001P0hello\x1d(k\x03\x001Q0"
    )
    assert p.parse(data) == [
        p.Block(b"\x1d(k", b"1A2\x00"),
        p.Block(b"\x1d(k", b"1C\x03"),
        p.Block(b"\x1d(k", b"1E0"),
        p.Block(b"\x1d(k", b"1P0hello"),
        p.Block(b"\x1d(k", b"1Q0"),
    ]


def test_images_raster_graphics_and_columns() -> None:
    raster = b"\x1dv0\x00\x02\x00\x03\x00" + bytes(range(6))
    assert p.parse(raster) == [p.Raster(0, 2, 3, bytes(range(6)))]
    graphics = b"\x1d(L\x0e\x000p0\x01\x011\x10\x00\x02\x00" + b"\xff" * 4 + b"\x1d(L\x02\x0002"
    assert p.parse(graphics) == [
        p.Block(b"\x1d(L", b"0p0\x01\x011\x10\x00\x02\x00" + b"\xff" * 4),
        p.Block(b"\x1d(L", b"02"),
    ]
    column = b"\x1b3\x10\x1b*!\x02\x00" + b"\x01" * 6 + b"\n\x1b2"
    assert p.parse(column) == [
        p.Command(b"\x1b3", b"\x10"),
        p.BitImage(33, 2, b"\x01" * 6),
        p.Text(b"\n"),
        p.Command(b"\x1b2"),
    ]


@pytest.mark.parametrize(
    ("data", "args"),
    [
        (b"\x1bd\x06\x1dV\x00", b"\x00"),  # cut(): feed 6 lines, full cut
        (b"\x1bd\x06\x1dV\x01", b"\x01"),  # cut(mode="PART")
        (b"\x1dVB\x00", b"B\x00"),  # cut(feed=False): GS V 66 0
        (b"\x1dVA\x10", b"A\x10"),  # GS V 65 n
        (b"\x1dV0", b"0"),  # GS V 48
    ],
)
def test_every_cut_form(data: bytes, args: bytes) -> None:
    assert p.parse(data)[-1] == p.Command(b"\x1dV", args)


def test_status_queries_python_escpos_sends() -> None:
    # query_status(RT_STATUS_ONLINE) / paper_status() / is_online()
    assert p.parse(b"\x10\x04\x01") == [p.Command(b"\x10\x04", b"\x01")]
    assert p.parse(b"\x10\x04\x04")[0].name == "realtime_status"  # type: ignore[union-attr]
    assert p.parse(b"\x1dg2\x00\x14\x00") == [p.Command(b"\x1dg2", b"\x00\x14\x00")]
    assert p.parse(b"\x1dr\x01\x1dI\x43\x1da\x0f\x1dg0\x00\x32\x00") == [
        p.Command(b"\x1dr", b"\x01"),
        p.Command(b"\x1dI", b"\x43"),
        p.Command(b"\x1da", b"\x0f"),
        p.Command(b"\x1dg0", b"\x00\x32\x00"),
    ]
    assert p.parse(b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08") == [
        p.Command(b"\x10\x14\x08", b"\x01\x03\x14\x01\x06\x02\x08")
    ]


def test_unknown_commands_are_skipped_and_parsing_resumes() -> None:
    assert p.parse(b"\x1b\xffA\x1d\x00B\x1dVzC") == [
        p.Unknown(b"\x1b\xff"),
        p.Text(b"A"),
        p.Unknown(b"\x1d\x00"),
        p.Text(b"B"),
        p.Unknown(b"\x1dVz"),
        p.Text(b"C"),
    ]


def test_out_of_range_headers_do_not_swallow_the_stream() -> None:
    assert p.parse(b"\x1dv0\x00\x00\x00\x01\x00AB") == [
        p.Unknown(b"\x1dv0\x00\x00\x00\x01\x00"),
        p.Text(b"AB"),
    ]
    huge = b"\x1d8L" + (p.MAX_BLOCK + 1).to_bytes(4, "little")
    assert p.parse(huge + b"X") == [p.Unknown(huge), p.Text(b"X")]
    # a function A barcode without a NUL within 255 bytes is noise, not a barcode
    assert p.parse(b"\x1dk\x04" + b"A" * 300)[0] == p.Unknown(b"\x1dk\x04")


def test_incomplete_command_waits_for_the_rest() -> None:
    parser = p.Parser()
    assert parser.feed(b"AB\x1d(k\x08\x001P0he") == [p.Text(b"AB")]
    assert parser.pending == 10
    assert parser.feed(b"llo\x10") == [p.Block(b"\x1d(k", b"1P0hello")]
    assert parser.feed(b"\x04") == []
    assert parser.feed(b"\x02") == [p.Command(b"\x10\x04", b"\x02")]
    assert parser.pending == 0


# -- round trips -------------------------------------------------------------------------------------
_fixed = st.sampled_from(sorted(p.FIXED)).flatmap(
    lambda k: st.binary(min_size=p.FIXED[k], max_size=p.FIXED[k]).map(lambda a: p.Command(k, a))
)
_messages = st.one_of(
    st.binary(min_size=1, max_size=40).map(
        lambda b: p.Text(bytes(x if x >= 0x20 else 0x20 + x for x in b))
    ),
    st.sampled_from([p.FF, p.CAN, p.BEL]).map(p.Control),
    _fixed,
    st.integers(1, 4).map(lambda n: p.Command(b"\x10\x04", bytes((n,)))),
    st.sampled_from([0, 1, 48, 49]).map(lambda m: p.Command(b"\x1dV", bytes((m,)))),
    st.tuples(st.sampled_from([65, 66, 97, 98]), st.integers(0, 255)).map(
        lambda t: p.Command(b"\x1dV", bytes(t))
    ),
    st.tuples(st.integers(0, 6), st.binary(max_size=40)).map(
        lambda t: p.Barcode(t[0], t[1].replace(b"\x00", b"0"))
    ),
    st.tuples(st.integers(65, 79), st.binary(max_size=255)).map(lambda t: p.Barcode(*t)),
    st.tuples(st.sampled_from([b"\x1d(k", b"\x1d(L", b"\x1b(A", b"\x1d8L"]), st.binary()).map(
        lambda t: p.Block(*t)
    ),
    st.tuples(st.sampled_from([0, 1, 2, 3, 48, 51]), st.integers(1, 6), st.integers(1, 6)).flatmap(
        lambda t: st.binary(min_size=t[1] * t[2], max_size=t[1] * t[2]).map(
            lambda d: p.Raster(t[0], t[1], t[2], d)
        )
    ),
    st.tuples(st.sampled_from([0, 1, 32, 33]), st.integers(1, 8)).flatmap(
        lambda t: st.binary(
            min_size=t[1] * (3 if t[0] >= 32 else 1), max_size=t[1] * (3 if t[0] >= 32 else 1)
        ).map(lambda d: p.BitImage(t[0], t[1], d))
    ),
    st.binary(max_size=32).map(lambda b: p.Tabs(b.replace(b"\x00", b"\x01"))),
)


@given(st.lists(_messages, max_size=12), st.lists(st.integers(0, 2000), max_size=6))
@settings(max_examples=300)
def test_messages_round_trip_split_anywhere(msgs: list[p.Message], cuts: list[int]) -> None:
    data = b"".join(p.encode(m) for m in msgs)
    assert merged(p.parse(data)) == merged(msgs)
    parser, got, last = p.Parser(), [], 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        got += parser.feed(data[last:cut])
        last = cut
    assert merged(got) == merged(msgs) and parser.pending == 0


@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=5))
@settings(max_examples=400)
def test_random_bytes_never_raise_and_parse_the_same_however_split(
    data: bytes, cuts: list[int]
) -> None:
    whole = p.Parser()
    expected = merged(whole.feed(data))
    parser, got, last = p.Parser(), [], 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        got += parser.feed(data[last:cut])
        last = cut
    assert merged(got) == expected and parser.pending == whole.pending
    p.parse(data)  # the one-shot form too


def test_encoder_refuses_what_cannot_be_sent() -> None:
    with pytest.raises(ProtocolError, match="control bytes"):
        p.encode(p.Text(b"a\x1bb"))
    with pytest.raises(ProtocolError, match="cannot hold NUL"):
        p.encode(p.Barcode(2, b"12\x0034"))
    with pytest.raises(ProtocolError, match="must be <= 255"):
        p.encode(p.Barcode(73, b"1" * 256))
    with pytest.raises(ProtocolError, match="raster data length"):
        p.encode(p.Raster(0, 2, 2, b"\x00"))


# -- replies -------------------------------------------------------------------------------------------
def test_healthy_printer_answers_0x12_to_every_realtime_status() -> None:
    c = s.Condition()
    assert [s.realtime_status(c, n) for n in (1, 2, 3, 4)] == [b"\x12"] * 4
    assert s.realtime_status(c, 5) == b""
    assert s.transmit_status(c, 1) == b"\x00" and s.auto_status(c) == b"\x10\x00\x00\x00"


@pytest.mark.parametrize(
    ("condition", "replies", "gs_r1"),
    [
        (s.Condition(offline=True, paper_end_stop=True, near_end=True, paper_end=True),
         b"\x1a\x32\x12\x7e", b"\x0f"),
        (s.Condition(near_end=True), b"\x12\x12\x12\x1e", b"\x03"),
        (s.Condition(offline=True, cover_open=True), b"\x1a\x16\x12\x12", b"\x00"),
        (s.Condition(offline=True, error=True, cutter_error=True), b"\x1a\x52\x1a\x12", b"\x00"),
        (s.Condition(offline=True, error=True, auto_recoverable_error=True),
         b"\x1a\x52\x52\x12", b"\x00"),
        (s.Condition(offline=True, error=True, unrecoverable_error=True),
         b"\x1a\x52\x32\x12", b"\x00"),
        (s.Condition(offline=True, feeding=True), b"\x1a\x1a\x12\x12", b"\x00"),
    ],
)  # fmt: skip
def test_status_bits_as_the_epson_manual_lays_them_out(
    condition: s.Condition, replies: bytes, gs_r1: bytes
) -> None:
    got = b"".join(s.realtime_status(condition, n) for n in (1, 2, 3, 4))
    assert got == replies
    assert s.transmit_status(condition, 1) == s.transmit_status(condition, 49) == gs_r1


def test_python_escpos_masks_read_our_paper_status() -> None:
    # escpos.constants: RT_MASK_NOPAPER 114, RT_MASK_LOWPAPER 30, RT_MASK_PAPER 18
    out = s.realtime_status(s.Condition(near_end=True, paper_end=True), 4)[0]
    near = s.realtime_status(s.Condition(near_end=True), 4)[0]
    assert out & 114 == 114 and near & 114 != 114 and near & 30 == 30


def test_decode_status_names_the_bits_and_checks_the_fixed_ones() -> None:
    assert s.decode_status(2, 0x32) == {"paper_end_stop"}
    assert s.decode_status(3, 0x52) == {"auto_recoverable_error"}
    assert s.decode_status(4, 0x7E) == {"near_end", "paper_end"}
    with pytest.raises(ProtocolError, match="fixed bits"):
        s.decode_status(1, 0x08)


def test_maintenance_counter_request_and_reply() -> None:
    assert s.maintenance_counter_request(148) == bytes.fromhex("1d 67 32 00 94 00")
    assert s.counter_reply(120) == b"_120\x00"  # the manual's own example: 31H 32H 30H
    assert s.parse_counter_reply(b"_0\x00") == 0
    for bad in (b"120\x00", b"_12a\x00", b"_120", b"_\x00"):
        with pytest.raises(ProtocolError):
            s.parse_counter_reply(bad)
    assert s.parse_block_reply(s.block_reply("TM-T88V")) == "TM-T88V"


@settings(max_examples=400)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=6),
            st.sampled_from([b"\x10", b"\x10\x04", b"\x10\x04\x01", b"\x10\x14", b"\x1b!\x10"]),
            st.sampled_from([b"\x10\x05\x02", b"\x10\x14\x01\x00\x03", p.CLEAR_BUFFERS[:6]]),
        ),
        max_size=6,
    ).map(b"".join)
)
def test_quiet_is_a_scan_that_finds_and_holds_nothing(data: bytes) -> None:
    from devices.protocols.escpos_realtime import quiet

    scanner = p.RealtimeScanner()
    found = scanner.scan(data)
    assert quiet(data) == (not found and not scanner.pending)
