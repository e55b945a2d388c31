"""`workbench remote grant --state-dir`: one window certificate for every running terminal."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from remote.cli import remote
from remote.window import CertificateAuthority, engineer_key, read_certificate_info


def test_grant_names_every_terminal_under_a_state_dir(tmp_path: Path) -> None:
    CertificateAuthority.init(tmp_path / "CA")
    engineer_key(tmp_path / "alice", "alice@support")
    for tid in ("KSK-0001", "KSK-0002", "KSK-0003"):
        (tmp_path / "fleet" / tid).mkdir(parents=True)
        (tmp_path / "fleet" / tid / "endpoints.json").write_text(json.dumps({"terminal": tid}))
    args = ["grant", "--ca", str(tmp_path / "CA"), "--key", str(tmp_path / "alice.pub")]
    result = CliRunner().invoke(remote, [*args, "--state-dir", str(tmp_path / "fleet")])
    assert result.exit_code == 0, result.output
    info = read_certificate_info(tmp_path / "alice-cert.pub")
    assert set(info.principals) == {"KSK-0001", "KSK-0002", "KSK-0003"}

    empty = CliRunner().invoke(remote, [*args, "--state-dir", str(tmp_path / "CA")])
    assert empty.exit_code != 0
    assert "no running terminals" in str(empty.exception or empty.output)
    neither = CliRunner().invoke(remote, args)
    assert neither.exit_code == 2
    assert "--terminal ID (repeatable) or --state-dir DIR" in neither.output
