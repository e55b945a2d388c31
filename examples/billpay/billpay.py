"""A small bill-payment kiosk application: it takes banknotes on an SSP validator until the bill
is paid, then prints a receipt on an ESC/POS printer, the way the software of a real service-hall
kiosk does it; it is what the tests in ``tests/`` check against a simulated kiosk.

It copes with what goes wrong in the field: the printer out of paper (the payment stands, the
customer is told to ask at the counter and the staff are alerted), and a note jammed in the
validator (the payment stops, what was credited so far is reported for reconciliation).

The validator driver is plain blocking pyserial around the workbench's public SSP master
(``devices.protocols.hosts.ssp``: framing, CRC, the sequence flag, retries); the receipt is
python-escpos.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import serial
from escpos.printer import Serial as EscPosSerial

from devices.protocols.hosts.ssp import REPLY_TIMEOUT_S, RETRIES, SspMaster, check_ok
from devices.protocols.ssp_messages import (
    Command,
    Event,
    SetupData,
    decode_poll_events,
    inhibit_mask,
)
from workbench.errors import ProtocolError

log = logging.getLogger("billpay")

POLL_INTERVAL_S = 0.1
"""How often the application polls the validator while a payment is open (real time)."""


class ValidatorError(Exception):
    """The validator did not answer, or answered something other than OK."""


class SspValidator:
    """A blocking SSP host for a note validator at address 0 on a serial port: the workbench's
    public SSP master (sans-I/O: frames, the sequence flag, retries, eSSP) over pyserial."""

    def __init__(self, port: str, timeout: float = REPLY_TIMEOUT_S, retries: int = RETRIES) -> None:
        self.port = serial.Serial(port, 9600, timeout=timeout)
        self.timeout = timeout
        self.retries = retries
        self.master = SspMaster()
        self.values: tuple[int, ...] = ()

    def close(self) -> None:
        self.port.close()

    def send(self, code: int, params: bytes = b"") -> bytes:
        """A command that must answer OK; returns the reply's payload."""
        ask = self.master.command(code, params)
        for _ in range(self.retries + 1):  # the same packet again on a timeout, as ITL's do
            self.port.reset_input_buffer()
            self.port.write(ask.request)
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                answer = ask.feed(self.port.read(self.port.in_waiting or 1))
                if answer is not None:
                    try:
                        return check_ok(code, answer)
                    except ProtocolError as exc:
                        raise ValidatorError(str(exc)) from None
            ask = self.master.resend()
        raise ValidatorError(f"no answer to command 0x{code:02X}")

    def setup(self) -> None:
        """SYNC, read the channel values, accept every channel."""
        self.send(Command.SYNC)
        self.values = SetupData.decode(self.send(Command.SETUP_REQUEST)).values
        self.send(Command.SET_INHIBITS, inhibit_mask(range(1, len(self.values) + 1)))

    def poll(self) -> list[tuple[int, int | None]]:
        return [(e.code, e.channel) for e in decode_poll_events(self.send(Command.POLL))]


@dataclass
class Payment:
    """The outcome of one bill payment."""

    account: str
    amount: int
    credited: int = 0
    notes: list[int] = field(default_factory=list)
    status: str = "open"  # paid | paid_no_receipt | jammed | timeout | validator_error
    message: str = ""
    receipt: bool = False


class BillPayKiosk:
    """The application: one payment at a time, a receipt at the end, alerts to the staff."""

    def __init__(self, validator_port: str, printer_port: str) -> None:
        self.validator_port = validator_port
        self.printer_port = printer_port
        self.alerts: list[str] = []

    def pay(
        self,
        account: str,
        amount: int,
        *,
        on_ready: Callable[[], object] | None = None,
        timeout_s: float = 20.0,
    ) -> Payment:
        """Take notes until ``amount`` is credited; ``on_ready`` runs whenever the validator is
        ready for the next note (the "insert a note" screen)."""
        payment = Payment(account, amount)
        validator = SspValidator(self.validator_port)
        try:
            self._collect(validator, payment, on_ready, timeout_s)
        except ValidatorError as exc:
            payment.status, payment.message = "validator_error", str(exc)
            self.alerts.append(f"validator: {exc}")
        finally:
            with contextlib.suppress(ValidatorError):
                validator.send(Command.DISABLE)
            validator.close()
        if payment.status == "paid":
            self._receipt(payment)
        return payment

    def _collect(
        self, v: SspValidator, p: Payment, on_ready: Callable[[], object] | None, timeout_s: float
    ) -> None:
        v.setup()
        v.send(Command.ENABLE)
        v.poll()  # what happened before this customer is not theirs
        if on_ready is not None:
            on_ready()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for code, channel in v.poll():
                if code == Event.CREDIT and channel:
                    value = v.values[channel - 1]
                    p.credited += value
                    p.notes.append(value)
                    if p.credited < p.amount and on_ready is not None:
                        on_ready()
                elif code in (Event.SAFE_JAM, Event.UNSAFE_JAM):
                    p.status = "jammed"
                    p.message = f"note jammed; {p.credited} credited so far, call staff"
                    self.alerts.append(f"validator jam during payment for {p.account}")
                    return
            if p.credited >= p.amount:
                p.status = "paid"
                return
            time.sleep(POLL_INTERVAL_S)
        p.status, p.message = "timeout", f"{p.credited} of {p.amount} credited"

    def _receipt(self, p: Payment) -> None:
        # python-escpos chatters on stdout and warns about its printer profile.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            printer = EscPosSerial(devfile=self.printer_port, baudrate=115200, timeout=0.3)
            try:
                if printer.paper_status() == 0:
                    p.status = "paid_no_receipt"
                    p.message = "paid; no receipt: the printer is out of paper, ask at the counter"
                    self.alerts.append("printer: paper out")
                    return
                printer.set(align="center", bold=True)
                printer.text("CITY WATER BILL\n")
                printer.set(align="left", bold=False)
                printer.text(f"Account    {p.account}\n")
                printer.text(f"Paid       {p.credited:.2f} EUR\n")
                printer.barcode("4006381333931", "EAN13")
                printer.text("Thank you\n")
                printer.cut()
                p.receipt = True
            finally:
                printer.close()
