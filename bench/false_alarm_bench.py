"""No false diagnoses under load: healthy kiosks, all in one process, inspected through their SSH
agents at bounded concurrency while other processes keep every core busy. A healthy kiosk must
give zero warnings, zero failures and zero test errors, run after run.

    .venv/bin/python bench/false_alarm_bench.py [--kiosks 50] [--concurrency 20] [--runs 3]
                                                [--hogs N (default: one per core)] [--speed 30]

The kiosks run as a user runs them (``workbench kiosk up --count N --ca CA``, one process), the
inspection as ``workbench remote fleet --suite inspection``; the hogs are busy-loop processes
started before the first run and stopped after the last. The result of every run is read back
from the maintenance records the fleet run stores. Exit status 1 when any run flagged anything.
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
HOG = "while True: pass"


def wb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WB, *args], capture_output=True, text=True, env=ENV, check=False)


def start_kiosks(state: Path, ca: Path, count: int, speed: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [*WB, "kiosk", "up", "--count", str(count), "--id", "KSK", "--state-dir", str(state),
         "--speed", str(speed), "--ca", str(ca)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:  # readiness: printed once every kiosk is up
        if "kiosk(s) up" in line:
            return proc
    raise SystemExit(f"kiosks did not start: {proc.stderr.read() if proc.stderr else ''}")


def flagged(store: Path, since: float) -> list[str]:
    """``terminal test: status suspect`` for every result since ``since`` that is not a pass."""
    from workbench.store import RecordStore

    with RecordStore(store) as records:
        runs = [r for r in records.maintenance_runs(limit=10_000) if r.started >= since]
    return sorted(
        f"{run.terminal} {f.test}: {f.status} {f.suspect or ''}"
        for run in runs
        for f in run.findings
        if f.status not in ("pass", "skip")
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiosks", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hogs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--speed", type=float, default=30.0)
    args = ap.parse_args()
    from remote.window import CertificateAuthority, engineer_key

    bad_runs = 0
    with tempfile.TemporaryDirectory(prefix="wb-falsealarm-") as tmp:
        work = Path(tmp)
        CertificateAuthority.init(work / "CA")
        engineer_key(work / "eng", "bench@support")
        state = work / "state"
        kiosks = start_kiosks(state, work / "CA", args.kiosks, args.speed)
        hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(args.hogs)]
        try:
            grant = wb(
                "remote", "grant", "--ca", str(work / "CA"), "--state-dir", str(state),
                "--key", str(work / "eng.pub"), "--engineer", "bench", "--out",
                str(work / "eng-cert.pub"),
            )  # fmt: skip
            if grant.returncode:
                raise SystemExit(grant.stderr)
            print(
                f"false-alarm bench: {args.kiosks} healthy kiosks in one process at speed "
                f"{args.speed:g}, inspection at concurrency {args.concurrency}, {args.hogs} CPU "
                f"hog(s) on {os.cpu_count()} CPUs"
            )
            for n in range(1, args.runs + 1):
                since = time.time()
                t0 = time.perf_counter()
                done = wb(
                    "remote", "fleet", "--state-dir", str(state), "--key", str(work / "eng"),
                    "--cert", str(work / "eng-cert.pub"), "--known-hosts",
                    str(work / "CA" / "known_hosts"), "--suite", "inspection",
                    "--concurrency", str(args.concurrency),
                )  # fmt: skip
                wall = time.perf_counter() - t0
                tally = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
                found = flagged(state / "records.sqlite", since)
                bad_runs += bool(found) or done.returncode != 0
                print(
                    f"run {n}: {wall:6.1f} s wall, load {os.getloadavg()[0]:.1f}, "
                    f"terminals {tally or done.stderr.strip()[-200:]}; "
                    f"{len(found)} result(s) not pass"
                )
                for line in found[:20]:
                    print("   ", line)
        finally:
            for hog in hogs:
                hog.terminate()
                hog.wait()
            kiosks.terminate()
            kiosks.wait()
    print("no false diagnoses" if not bad_runs else f"{bad_runs} run(s) with false diagnoses")
    return 1 if bad_runs else 0


if __name__ == "__main__":
    sys.exit(main())
