"""Killing ``workbench remote fleet`` with SIGKILL mid-run loses no committed record and leaves no
half-written run, on both records engines; a rerun adds its runs cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from remote.window import CertificateAuthority, engineer_key
from workbench.store import RecordStore

WB = [sys.executable, "-m", "workbench.cli"]
ENV = {**os.environ, "COLUMNS": "200"}
KIOSKS = 4


@pytest.fixture
def fleet_dir(state_dir: Path) -> Iterator[Path]:
    """Four simulated kiosks with agents in a subprocess, a CA and an engineer's fleet grant."""
    ca = state_dir / "ca"
    CertificateAuthority.init(ca)
    engineer_key(state_dir / "eng", "kill.test")
    up = [
        *WB, "kiosk", "up", "--count", str(KIOSKS), "--id", "KSK-K", "--ca", str(ca),
        "--state-dir", str(state_dir / "fleet"), "--speed", "30",
    ]  # fmt: skip
    kiosks = subprocess.Popen(
        up,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert kiosks.stdout is not None
        for line in kiosks.stdout:  # readiness: printed once every kiosk is up
            if "kiosk(s) up" in line:
                break
        else:
            pytest.fail(f"kiosks did not start: {kiosks.stderr.read() if kiosks.stderr else ''}")
        grant = [
            *WB, "remote", "grant", "--ca", str(ca), "--key", str(state_dir / "eng.pub"),
            "--state-dir", str(state_dir / "fleet"),
        ]  # fmt: skip
        granted = subprocess.run(
            grant,
            capture_output=True,
            text=True,
            env=ENV,
            timeout=30,
        )
        assert granted.returncode == 0, granted.stderr
        yield state_dir
    finally:
        kiosks.send_signal(signal.SIGTERM)
        kiosks.communicate(timeout=30)


def _fleet(state_dir: Path, records: str) -> list[str]:
    return [
        *WB, "remote", "fleet", "--state-dir", str(state_dir / "fleet"),
        "--key", str(state_dir / "eng"), "--cert", str(state_dir / "eng-cert.pub"),
        "--known-hosts", str(state_dir / "ca" / "known_hosts"),
        "--concurrency", "1", "--records", records,
    ]  # fmt: skip


def _runs(records: str) -> list[tuple[int, int, int]]:
    """Each stored run as (id, results stored, results the run said it has)."""
    with RecordStore(records) as store:
        runs = store.runs()  # first: a run read here is committed before the next query runs
        declared = {
            r["id"]: r["n_results"]
            for r in store.query("SELECT id, n_results FROM maintenance_runs")
        }
        return [(r.id, len(r.results), declared[r.id]) for r in runs]


@pytest.mark.timeout(90)
def test_sigkill_mid_fleet_run_loses_nothing_committed(fleet_dir: Path, records_url: str) -> None:
    proc = subprocess.Popen(
        _fleet(fleet_dir, records_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    try:
        deadline = time.monotonic() + 60
        seen: list[tuple[int, int, int]] = []
        while not seen and time.monotonic() < deadline and proc.poll() is None:
            seen = _runs(records_url)
            time.sleep(0.02)  # polling the store for a first committed run, not a server
        assert seen, "the fleet run stored nothing"
        assert proc.poll() is None, "the fleet run ended before it could be killed"
        proc.kill()  # SIGKILL: no handler, no cleanup, maybe mid-transaction
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    after = _runs(records_url)
    assert {r[0] for r in seen} <= {r[0] for r in after}  # nothing committed was lost
    assert len(after) < KIOSKS  # it really was killed mid-run
    assert all(stored == declared == 11 for _, stored, declared in after), after

    rerun = subprocess.run(
        _fleet(fleet_dir, records_url), capture_output=True, text=True, env=ENV, timeout=60
    )
    # 1 would be a diagnostic's own verdict on a terminal, still a whole run; 2+ is an error.
    assert rerun.returncode in (0, 1), rerun.stderr
    final = _runs(records_url)
    assert len(final) == len(after) + KIOSKS
    assert all(stored == declared == 11 for _, stored, declared in final), final
