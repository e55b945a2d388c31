"""What a class trainee's TUI lists: their own kiosk and its records only. Every trainee of a
class plays the same scenario, so a classmate's row ('KSK-T01 fail printer.paper_out') or
records are the answer."""

from __future__ import annotations

import json
from pathlib import Path

from remote.window import CertificateAuthority, engineer_key
from tui.live import LiveBackend
from workbench.store import RecordStore

T0 = 1_796_000_000.0
SEATS = ("KSK-T01", "KSK-T02", "KSK-T03")


def _class(state: Path) -> None:
    """A class's record under the state dir, and t01's inspection on record."""
    trainees = [{"name": f"t0{n}", "terminal": t} for n, t in enumerate(SEATS, 1)]
    (state / "class.json").write_text(
        json.dumps({"scenario": "p3-paper-out", "trainees": trainees})
    )
    results = [{"test": "print_head", "status": "fail", "suspect": "printer.paper_out"}]
    with RecordStore(state / "records.sqlite") as store:
        store.add_maintenance_run("KSK-T01", "quick", "t01@class", T0, T0 + 2, "fail", results)
        store.add_maintenance_run("KSK-T02", "quick", "t02@class", T0, T0 + 2, "pass", [])


def _session(state: Path, name: str, terminals: list[str], allow: tuple[str, ...]) -> LiveBackend:
    ca = CertificateAuthority.init(state / f"ca-{name}")
    key = engineer_key(state / name, f"{name}@class")
    cert = state / f"{name}-cert.pub"
    cert.write_bytes(ca.grant(terminals, key.convert_to_public(), allow=allow).certificate)
    backend = LiveBackend(state, cert=cert, known_hosts=state / f"ca-{name}" / "known_hosts")
    backend.open()
    return backend


def test_a_trainee_sees_only_their_kiosk_and_its_records(tmp_path: Path) -> None:
    """Seen in tmux: t02's fleet listed KSK-T01 'fail, printer.paper_out as of 16:21', what
    t01 had found, and Reports listed t01's run."""
    _class(tmp_path)
    t02 = _session(tmp_path, "t02", ["KSK-T02"], ("diag", "remedy"))
    assert [r.terminal for r in t02.terminals()] == ["KSK-T02"]
    assert [r.terminal for r in t02.history(None)] == ["KSK-T02"]
    assert t02.history("KSK-T01") == []


def test_the_trainer_and_an_engineer_outside_the_class_see_the_whole_fleet(
    tmp_path: Path,
) -> None:
    _class(tmp_path)
    trainer = LiveBackend(tmp_path)  # no window
    assert {r.terminal for r in trainer.terminals()} == {"KSK-T01", "KSK-T02"}
    coach = _session(tmp_path, "coach", ["KSK-T02"], ("diag", "remedy", "trainer"))
    assert {r.terminal for r in coach.terminals()} == {"KSK-T01", "KSK-T02"}
    other = _session(tmp_path, "alice", ["KSK-0001"], ("diag", "remedy"))  # not a class seat
    assert {r.terminal for r in other.history(None)} == {"KSK-T01", "KSK-T02"}
