"""The bill-payment application against a simulated kiosk (the workbench's pytest plugin):
notes over SSP, the receipt over ESC/POS, paper out and a jammed note, no hardware."""

from __future__ import annotations

from pathlib import Path

import pytest
from billpay import BillPayKiosk

pytestmark = pytest.mark.kiosk(profile="bill_payment", speed=60)


def app(kiosk) -> BillPayKiosk:
    return BillPayKiosk(
        kiosk.endpoints["bill_validator"]["serial"], kiosk.endpoints["printer"]["serial"]
    )


def test_a_bill_is_paid_and_a_receipt_printed(kiosk) -> None:
    notes = iter([20, 10])
    payment = app(kiosk).pay(
        "0012-3456-78", 30, on_ready=lambda: kiosk.act("insert-note", next(notes))
    )
    assert payment.status == "paid"
    assert payment.notes == [20, 10]
    assert kiosk.credits() == [20, 10]
    kiosk.wait_for("printer", "receipt")  # the printer has cut it
    [receipt] = kiosk.receipts()
    assert "Account    0012-3456-78" in receipt
    assert "Paid       30.00 EUR" in receipt
    assert "[BARCODE EAN13 4006381333931]" in receipt


def test_paper_out_keeps_the_payment_and_alerts_the_staff(kiosk) -> None:
    kiosk.inject("printer.paper_out")
    kiosk_app = app(kiosk)
    payment = kiosk_app.pay("0012-3456-78", 20, on_ready=lambda: kiosk.act("insert-note", 20))
    assert payment.status == "paid_no_receipt"
    assert payment.credited == 20
    assert kiosk.receipts() == []
    assert kiosk_app.alerts == ["printer: paper out"]


def test_a_jammed_note_stops_the_payment_for_reconciliation(kiosk) -> None:
    def customer() -> None:
        kiosk.act("insert-note", 10)
        kiosk.inject("bill_validator.unsafe_jam")

    kiosk_app = app(kiosk)
    payment = kiosk_app.pay("0099-0000-01", 50, on_ready=customer)
    assert payment.status == "jammed"
    assert "bill_validator.unsafe_jam" in kiosk.faults()
    assert kiosk_app.alerts == ["validator jam during payment for 0099-0000-01"]
    assert kiosk.receipts() == []


@pytest.mark.kiosk_scenario("p3-paper-out")
def test_the_paper_runs_out_on_the_scenarios_timeline(kiosk) -> None:
    """The scenario empties the roll 30 simulated minutes in: jump there and pay."""
    kiosk.advance(31 * 60)
    assert "printer.paper_out" in kiosk.faults()
    payment = app(kiosk).pay("0012-3456-78", 5, on_ready=lambda: kiosk.act("insert-note", 5))
    assert payment.status == "paid_no_receipt"


GOLDEN = Path(__file__).with_name("golden") / "pay-30.jsonl"


@pytest.mark.kiosk(record=True)
def test_the_payment_says_what_the_golden_run_said(kiosk) -> None:
    """Regression: the bytes the application sends (SSP commands, the receipt) match the golden
    transcript, message by message; timing and the number of polls may differ."""
    notes = iter([20, 10])
    payment = app(kiosk).pay(
        "0012-3456-78", 30, on_ready=lambda: kiosk.act("insert-note", next(notes))
    )
    assert payment.status == "paid"
    kiosk.wait_for("printer", "receipt")
    kiosk.check_transcript(GOLDEN)
