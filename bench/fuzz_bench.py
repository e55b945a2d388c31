"""The long fuzz run: random bytes at every port kind of a live ``bill_payment`` kiosk (its own
process, ``workbench kiosk up``), round after round, with the kiosk's resident memory before and
after and a valid request to every device after each kind.

Baseline, measured in the same run: the kiosk's RSS once it is up and has answered every device
once (the fuzz must not grow it past what a healthy kiosk holds), and the time the answer check
takes on the untouched kiosk.

    .venv/bin/python bench/fuzz_bench.py [--seconds 10] [--rounds 3] [--speed 10] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import port_fuzz


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # its client logs every retry
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="wb-fuzz-", dir="/tmp") as d:
        state = Path(d)
        async with port_fuzz.kiosk_up(state, "KSK-FUZZ", args.speed) as (kiosk, manifest):
            started = time.perf_counter()
            quiet = await port_fuzz.answers(manifest)
            check_s = time.perf_counter() - started
            base = rss_mib(kiosk.pid)
            print(f"seed {args.seed}; kiosk pid {kiosk.pid} at speed {args.speed:g}")
            print(f"baseline: RSS {base:.1f} MiB after start; answer check {check_s:.2f} s")
            if quiet:
                print(f"not answering before any fuzz: {quiet}")
                return 1
            failures = 0
            peak = base
            for rnd in range(1, args.rounds + 1):
                for kind in port_fuzz.KINDS:
                    sent = await port_fuzz.fuzz(manifest, kind, args.seconds, rng)
                    peak = max(peak, rss_mib(kiosk.pid))
                    started = time.perf_counter()
                    quiet = await port_fuzz.answers(manifest)
                    took = time.perf_counter() - started
                    total = sum(sent.values())
                    verdict = "all answer" if not quiet else f"SILENT: {quiet}"
                    print(
                        f"round {rnd} {kind:6}: {total / 1e6:7.2f} MB sent in {args.seconds:g} s "
                        f"to {len(sent)} ports; RSS {rss_mib(kiosk.pid):6.1f} MiB; "
                        f"check {took:.2f} s ({took / check_s:.1f}x baseline); {verdict}"
                    )
                    failures += bool(quiet)
            after = rss_mib(kiosk.pid)
            log_kib = (state / "kiosk.log").stat().st_size / 1024
            print(
                f"RSS before {base:.1f} MiB, after {after:.1f} MiB ({after / base:.2f}x), "
                f"peak {peak:.1f} MiB; {failures} check(s) with a silent device; "
                f"kiosk log {log_kib:,.0f} KiB"
            )
            return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Fuzz per port kind a round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "big"))
    sys.exit(asyncio.run(main(parser.parse_args())))
