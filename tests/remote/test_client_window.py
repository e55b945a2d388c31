"""What the client can tell from the certificate it holds: the time left in tsh's words and the
exact reason an agent would refuse it."""

from __future__ import annotations

import time

from remote_testkit import TERMINAL, Keys

from remote.certs import read_certificate_info
from remote.client import refusal
from remote.window import CertificateAuthority
from remote.window_text import window_left


def test_window_left_reads_like_tsh() -> None:
    end = time.mktime((2026, 12, 1, 14, 32, 0, 0, 0, -1))
    assert window_left(end, end - 47 * 60 - 5) == "valid until 14:32 [47m left]"
    assert window_left(end, end - 3600 - 120) == "valid until 14:32 [1h02m left]"
    assert window_left(end, end - 9) == "valid until 14:32 [9s left]"
    assert window_left(end, end + 300) == "closed at 14:32 [5m ago]"


def test_refusal_names_the_exact_reason(keys: Keys) -> None:
    now = time.time()
    good = read_certificate_info(keys.cert())
    assert refusal(good, TERMINAL, now, keys.ca.user_ca_public) is None
    assert refusal(good, "KSK-0002", now) == f"other terminal: the certificate is for {TERMINAL}"
    old = read_certificate_info(keys.cert(hours=1, now=now - 7200, name="old"))
    assert (refusal(old, TERMINAL, now) or "").startswith("expired: the window closed at ")
    other_ca = CertificateAuthority.init(keys.dir / "other")
    stranger = read_certificate_info(keys.cert(name="x"))
    reason = refusal(stranger, TERMINAL, now, other_ca.user_ca_public) or ""
    assert reason.startswith("untrusted CA: signed by SHA256:")


def test_a_fleet_grant_refusal_names_a_few_terminals_not_thousands(keys: Keys) -> None:
    fleet = [f"KSK-{n:04d}" for n in range(1, 2001)]
    info = read_certificate_info(keys.cert(fleet, name="fleet"))
    assert refusal(info, "KSK-1999", time.time()) is None
    reason = refusal(info, "KSK-9999", time.time())
    assert reason == (
        "other terminal: the certificate is for KSK-0001, KSK-0002, KSK-0003 and 1,997 more"
    )
