"""The quarterly inspection fanned out over a fleet of fully equipped simulated kiosks, as a user
runs it: kiosk processes started with ``workbench kiosk up --count N --ca CA``, one fleet grant,
then ``workbench remote fleet --suite inspection``; the wall time of the fan-out is the figure,
beside one kiosk's inspection measured in the same run (the per-terminal baseline).

    .venv/bin/python bench/fleet_bench.py [--fleets 100,1000] [--per-process 250] [--concurrency 50]

A Linux pty limit (``/proc/sys/kernel/pty/max``, often 4096) caps the kiosks one machine holds:
each bill-payment kiosk has five serial ports.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WB = [sys.executable, "-m", "workbench.cli"]
ENV = {**os.environ, "COLUMNS": "200"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WB, *args], capture_output=True, text=True, env=ENV, check=False)


def start_kiosks(
    state: Path, ca: Path, prefix: str, count: int, speed: float
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            *WB,
            "kiosk",
            "up",
            "--count",
            str(count),
            "--id",
            prefix,
            "--state-dir",
            str(state),
            "--speed",
            str(speed),
            "--ca",
            str(ca),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # readiness: the line printed once every kiosk is up
        if "kiosk(s) up" in line:
            return proc
    raise SystemExit(f"kiosks {prefix} did not start: {proc.stderr.read() if proc.stderr else ''}")


def fleet_run(state: Path, work: Path, concurrency: int) -> tuple[float, str]:
    grant = run(
        "remote", "grant", "--ca", str(work / "CA"), "--state-dir", str(state),
        "--key", str(work / "eng.pub"), "--engineer", "bench", "--out", str(work / "eng-cert.pub"),
    )  # fmt: skip
    if grant.returncode:
        raise SystemExit(grant.stderr)
    t0 = time.perf_counter()
    done = run(
        "remote", "fleet", "--state-dir", str(state), "--key", str(work / "eng"),
        "--cert", str(work / "eng-cert.pub"), "--known-hosts", str(work / "CA" / "known_hosts"),
        "--suite", "inspection", "--concurrency", str(concurrency),
    )  # fmt: skip
    wall = time.perf_counter() - t0
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    import sqlite3

    with sqlite3.connect(state / "records.sqlite") as db:
        flagged = db.execute(
            "SELECT test, suspect, count(*) FROM diag_results WHERE status != 'pass' "
            "GROUP BY test, suspect ORDER BY 3 DESC"
        ).fetchall()
    if flagged:
        summary += "   flagged: " + ", ".join(f"{t}/{s} x{n}" for t, s, n in flagged)
    return wall, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fleets", default="100,1000")
    ap.add_argument("--per-process", type=int, default=250, help="kiosks per kiosk process")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--speed", type=float, default=60.0)
    args = ap.parse_args()
    from remote.window import CertificateAuthority, engineer_key

    with tempfile.TemporaryDirectory(prefix="wb-fleet-") as tmp:
        work = Path(tmp)
        CertificateAuthority.init(work / "CA")
        engineer_key(work / "eng", "bench@support")
        print(f"fleet bench: inspection suite, bill_payment kiosks at speed {args.speed:g}, "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")  # fmt: skip
        one = work / "one"
        procs = [start_kiosks(one, work / "CA", "KSK", 1, args.speed)]
        try:
            base, summary = fleet_run(one, work, 1)
        finally:
            for p in procs:
                p.terminate()
                p.wait()
        print(f"1 terminal (baseline):  {base:7.2f} s wall   {summary}")
        for n in (int(x) for x in args.fleets.split(",")):
            state = work / f"fleet{n}"
            procs = []
            try:
                for i, start in enumerate(range(0, n, args.per_process)):
                    count = min(args.per_process, n - start)
                    procs.append(start_kiosks(state, work / "CA", f"K{i:02d}", count, args.speed))
                wall, summary = fleet_run(state, work, args.concurrency)
            finally:
                for p in procs:
                    p.terminate()
                    p.wait()
            print(
                f"{n} terminals ({len(procs)} kiosk processes, concurrency {args.concurrency}): "
                f"{wall:7.2f} s wall = {wall / base:6.1f}x one terminal   {summary}"
            )


if __name__ == "__main__":
    main()
