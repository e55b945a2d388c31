"""Benchmark of the steps of a served customer in usage mode bytes, each through the devices' real
byte sessions, in CPU time and in raw SimPy events' worth of CPU time (the best of raw loops run
alongside): a touch (the controller's packets to the host), a receipt with the two status
queries a kiosk sends first, a card reader exchange (command frame, ACK and reply, the host's
ACK), an SSP POLL exchange with the bill validator (the host's frame, the unit's framed reply,
read by the host), and a whole served customer (a short run of the ``bill_payment`` kiosk, best of several:
on a shared machine the fastest run is the one least disturbed).

    .venv/bin/python bench/customer_steps_bench.py [--rounds 7] [--years 0.05] [--runs 3]

Run it on two commits in turn to compare them; read the raw-event figures, which are measured
in the same process.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simpy

from bench.kiosk_bench import kiosk_profile, raw_simpy, served, virtual_kiosk
from devices.catalog import default_catalog
from devices.protocols import ssp_messages as sm
from devices.protocols import stx_bcc as cr
from devices.protocols.hosts.card_reader import CardReaderHost
from devices.protocols.hosts.ssp import SspMaster
from devices.terminal import Terminal
from devices.usage import receipt_bytes
from workbench.clock import DAY

PAIRED_RAW_EVENTS = 200_000


def best_us(step: Callable[[], object], n: int, rounds: int) -> float:
    """CPU microseconds of one ``step``: the best of ``rounds`` rounds of ``n``."""
    times = []
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(n):
            step()
        times.append((time.process_time() - t) / n * 1e6)
    return min(times)


def steps(rounds: int) -> dict[str, float]:
    """CPU microseconds of a touch, a receipt with its status queries, a card exchange and an
    SSP poll, on a ``bill_payment`` kiosk two days into its year (customers off: nothing else
    runs)."""
    env = simpy.Environment()
    profile = kiosk_profile("bill_payment", usage=False, mtbf=False)
    terminal = Terminal(env, "KSK-STEPS", profile, default_catalog(), seed=1)
    terminal.start()
    env.run(until=2 * DAY)
    screen, printer = terminal.devices["touchscreen"], terminal.devices["printer"]
    reader = terminal.devices["card_reader"]
    touches = screen.new_session()  # type: ignore[attr-defined]
    touches.attach(lambda data: None)
    paper = printer.new_session()  # type: ignore[attr-defined]
    receipt = receipt_bytes("card", 12)
    card = reader.new_session()  # type: ignore[attr-defined]
    status = CardReaderHost.request(cr.CM_STATUS, "0")
    ack = CardReaderHost.ack()
    validator = terminal.devices["bill_validator"].new_session()  # type: ignore[attr-defined]
    ssp = SspMaster()
    setup = ((sm.Command.SYNC, b""), (sm.Command.SET_INHIBITS, sm.inhibit_mask(range(1, 8))))
    for code, params in (*setup, (sm.Command.ENABLE, b""), (sm.Command.POLL, b"")):
        ssp.answer(validator.feed(ssp.request(code, params)))

    def touch() -> None:
        screen.act("touch", "480", "300")

    def print_receipt() -> None:
        paper.feed(b"\x10\x04\x04")
        paper.feed(b"\x10\x04\x01")
        paper.feed(receipt)
        if printer.has("printer.paper_near_end"):
            printer.act("refill-paper")

    def exchange() -> None:
        CardReaderHost.answer(card.feed(status))
        card.feed(ack)

    def poll() -> None:  # as the kiosk application polls: the whole exchange in one host call
        ssp.poll(validator.feed)

    return {
        "touch": best_us(touch, 2000, rounds),
        "receipt and 2 status queries": best_us(print_receipt, 2000, rounds),
        "card exchange": best_us(exchange, 2000, rounds),
        "SSP poll exchange": best_us(poll, 2000, rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--years", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raws = [raw_simpy(PAIRED_RAW_EVENTS, time.process_time)]
    costs = steps(args.rounds)
    profile = kiosk_profile("bill_payment", usage=True, mtbf=False)
    per = float("inf")
    for _ in range(args.runs):
        raws.append(raw_simpy(PAIRED_RAW_EVENTS, time.process_time))
        r = virtual_kiosk(profile, args.years)
        per = min(per, r["cpu"] / max(1, served(r["usage"])))
    raw = max(raws)  # the least disturbed raw loop, against the least disturbed runs
    print(f"raw SimPy env.timeout(1) loop: {raw:,.0f} events per CPU second (best of {len(raws)})")
    for name, us in costs.items():
        print(f"  {name}: {us:.2f} us CPU = {us * raw / 1e6:.1f} raw SimPy events' worth")
    print(
        f"  a served customer ({args.years:g} simulated years, best of {args.runs}): "
        f"{per * 1e6:.0f} us CPU = {per * raw:.0f} raw SimPy events' worth of CPU time "
        "(goal <= 100)"
    )


if __name__ == "__main__":
    main()
