"""The cards a card reader takes and the replies it gives, as values: a test card from its track
2, a reply with its frames, the data of a status reply. Pure and immutable, so each is made once
and remembered (a kiosk's customers bring a few cards and the reader gives the same few replies
all day); :mod:`devices.card_reader` is the reader that uses them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from devices.protocols import stx_bcc as p
from workbench.errors import DeviceError

DEFAULT_TRACK2 = "4761739001010119=25122011143804489"
"""Track 2 of a well-known EMV test card (Visa test PAN), without sentinels and LRC."""
DEFAULT_ATR = "3B6E00008031806673B084126E0183009000"
"""A typical EMV contact-card ATR (T=0 chip), hex."""


@dataclass(frozen=True, slots=True)
class Card:
    """A card in the customer's hand or in the reader (immutable: one object serves every
    customer who brings the same card, :func:`card_from_track2`)."""

    track1: str
    track2: str
    track3: str
    atr: bytes


@lru_cache(maxsize=256)
def card_from_track2(track2: str) -> Card:
    """A test card whose track 1 is derived from track 2 (PAN, expiry, service code); pure and
    the card immutable, so remembered (a kiosk's customers bring a few test cards)."""
    t2 = track2.strip(";?")
    if "=" not in t2 or not t2.replace("=", "").isdigit():
        raise DeviceError(
            f"track 2 data(={track2!r}) must look like PAN=YYMMSSS... (digits and '=')"
        )
    pan, rest = t2.split("=", 1)
    return Card(f"B{pan}^TEST/CARDHOLDER^{rest}", t2, "", bytes.fromhex(DEFAULT_ATR))


Framed = tuple[p.Reply, bytes, bytes]
"""A reply, its frame on the wire, and the ACK of the command followed by that frame (what a
session sends for a whole command frame, made once with the reply)."""


@lru_cache(maxsize=1024, typed=True)
def reply_of(positive: bool, cm: str, pm: str, code: str, data: bytes = b"") -> Framed:
    """A reply with these fields and its frames (immutable, so one triple serves them all: a
    reader gives the same few replies all day, and building and framing one costs more than the
    look-up; the same bytes objects each time also keep their hashes for the host's look-up)."""
    reply = p.Reply(positive, cm, pm, code, data)
    frame = reply.encode()
    return reply, frame, bytes([p.ACK]) + frame


@lru_cache(maxsize=256)
def pan_of(track2: str) -> tuple[str]:
    """A card_inserted record's values: the PAN of ``track2`` (one tuple a card, kept)."""
    return (track2.split("=")[0],)


@lru_cache(maxsize=256)
def track_bytes(text: str) -> bytes:
    """``text.encode("ascii")``, remembered (a card's track, read at every payment)."""
    return text.encode("ascii")


@lru_cache(maxsize=256)
def status_data(shutter: str, retained: int) -> bytes:
    """The DATA of a status reply: the shutter's code, then the retain-bin count as 3 digits."""
    return (p.SHUTTER_CODES[shutter] + f"{min(retained, 999):03d}").encode()
