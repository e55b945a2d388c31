"""The window authority: CA files and permissions, what a grant signs, the configured maximum,
grants in the records store, host certificates."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import asyncssh
import pytest

from remote.window import (
    ALLOW_EXTENSION,
    CertificateAuthority,
    issue_host_identity,
    read_certificate_info,
    read_public_key,
)
from workbench.errors import AuthError, ConfigError
from workbench.store import RecordStore

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.init(tmp_path / "ca")


@pytest.fixture
def engineer() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519", comment="alice@support").convert_to_public()


def test_ca_init_writes_private_keys_0600_in_a_0700_dir(ca: CertificateAuthority) -> None:
    assert mode(ca.dir) == 0o700
    assert mode(ca.dir / "user_ca") == 0o600 and mode(ca.dir / "host_ca") == 0o600
    assert ca.known_hosts_line.startswith("@cert-authority * ssh-ed25519 ")
    with pytest.raises(ConfigError, match="a CA already exists there"):
        CertificateAuthority.init(ca.dir)


def test_a_too_open_ca_key_is_refused(ca: CertificateAuthority, engineer: asyncssh.SSHKey) -> None:
    (ca.dir / "user_ca").chmod(0o644)
    with pytest.raises(AuthError, match="permissions 0644 are too open"):
        ca.grant(["KSK-0001"], engineer)


def test_grant_signs_principal_engineer_window_and_allowed_groups(
    ca: CertificateAuthority, engineer: asyncssh.SSHKey, tmp_path: Path
) -> None:
    before = int(time.time())
    g = ca.grant(["KSK-0001"], engineer, allow=("diag",), ticket="INC-42")
    path = tmp_path / "alice-cert.pub"
    path.write_bytes(g.certificate)
    info = read_certificate_info(path)
    assert (
        info.kind == "user" and info.key_id == "alice@support" and info.principals == ("KSK-0001",)
    )
    assert (
        before <= info.valid_after <= time.time() and info.valid_before - info.valid_after == 3600
    )
    assert info.allow == ("diag",) and info.ticket == "INC-42"
    # every permit-* extension cleared: no pty, no forwarding, no user rc
    assert info.extensions == (ALLOW_EXTENSION, "workbench-ticket@kiosk-workbench")
    assert info.critical_options == ()
    assert info.signing_key == ca.user_ca_public


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
def test_openssh_reads_the_grant(
    ca: CertificateAuthority, engineer: asyncssh.SSHKey, tmp_path: Path
) -> None:
    path = tmp_path / "alice-cert.pub"
    path.write_bytes(ca.grant(["KSK-0001", "KSK-0002"], engineer).certificate)
    text = subprocess.run(
        ["ssh-keygen", "-L", "-f", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert 'Key ID: "alice@support"' in text
    assert "Principals: \n                KSK-0001\n                KSK-0002" in text
    assert "permit-pty" not in text and "permit-port-forwarding" not in text
    assert ALLOW_EXTENSION in text


def test_window_longer_than_the_configured_maximum_is_refused(
    ca: CertificateAuthority, engineer: asyncssh.SSHKey
) -> None:
    # the service plan's window is one hour: a CA made by `ca init` signs no longer by default
    with pytest.raises(AuthError, match=r"a window of 4 h is refused: the maximum is 1 h"):
        ca.grant(["KSK-0001"], engineer, hours=4)
    (ca.dir / "window.yaml").unlink()  # a CA directory without the file has the same maximum
    with pytest.raises(AuthError, match=r"the maximum is 1 h"):
        CertificateAuthority(ca.dir).grant(["KSK-0001"], engineer, hours=1.5)
    (ca.dir / "window.yaml").write_text("default_hours: 1\nmax_hours: 0.5\n")
    with pytest.raises(AuthError, match=r"maximum is 0\.5 h"):
        CertificateAuthority(ca.dir).grant(["KSK-0001"], engineer)
    (ca.dir / "window.yaml").write_text("max_hourz: 2\n")
    with pytest.raises(ConfigError, match="unknown key 'max_hourz'"):
        CertificateAuthority(ca.dir)


def test_bad_terminal_ids_groups_and_nameless_keys_are_refused(
    ca: CertificateAuthority, engineer: asyncssh.SSHKey
) -> None:
    for bad in ("KSK-0001,KSK-0002", "KSK-0001\n", "../k1/KSK-0001", "", " KSK-0001"):
        with pytest.raises(ConfigError, match="terminal id"):
            ca.grant([bad], engineer)
    with pytest.raises(ConfigError, match="unknown command group 'root'"):
        ca.grant(["KSK-0001"], engineer, allow=("root",))
    nameless = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
    with pytest.raises(ConfigError, match="--engineer"):
        ca.grant(["KSK-0001"], nameless)
    assert ca.grant(["KSK-0001"], nameless, engineer="bob").engineer == "bob"


def test_grants_are_recorded_with_unique_serials(
    ca: CertificateAuthority, engineer: asyncssh.SSHKey
) -> None:
    with RecordStore(ca.dir / "records.sqlite") as store:
        a = ca.grant(["KSK-0001"], engineer, ticket="INC-1", store=store)
        b = ca.grant(["KSK-0001", "KSK-0002"], engineer, allow=("diag", "trainer"), store=store)
        rows = store.grants()
    assert b.serial == a.serial + 1
    assert [(r.terminals, r.engineer, r.ticket, r.allow) for r in rows] == [
        (("KSK-0001",), "alice@support", "INC-1", ("diag", "remedy")),
        (("KSK-0001", "KSK-0002"), "alice@support", None, ("diag", "trainer")),
    ]
    assert rows[0].valid_before - rows[0].valid_after == 3600


def test_host_identity_for_a_simulated_terminal(ca: CertificateAuthority, tmp_path: Path) -> None:
    key_path, cert_path = issue_host_identity(ca.dir, "KSK-0007", tmp_path / "host")
    assert mode(key_path) == 0o600
    info = read_certificate_info(cert_path)
    assert (
        info.kind == "host"
        and "KSK-0007" in info.principals
        and info.signing_key == ca.host_ca_public
    )
    again, _ = issue_host_identity(ca.dir, "KSK-0007", tmp_path / "host")
    assert (
        again.read_bytes() == key_path.read_bytes()
    )  # the key is kept, only the cert is re-signed


def test_grant_cli_writes_the_cert_next_to_the_key(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "remote.cli", "remote", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )

    assert run("ca", "init", "--dir", str(tmp_path / "CA")).returncode == 0
    key = asyncssh.generate_private_key("ssh-ed25519", comment="carol@support")
    key.write_public_key(str(tmp_path / "carol.pub"))
    done = run(
        "grant",
        "--ca",
        str(tmp_path / "CA"),
        "--terminal",
        "KSK-0001",
        "--key",
        str(tmp_path / "carol.pub"),
        "--hours",
        "0.5",
        "--allow",
        "diag",
        "--ticket",
        "INC-9",
    )
    assert done.returncode == 0, done.stderr
    assert "carol@support on KSK-0001" in done.stdout
    info = read_certificate_info(tmp_path / "carol-cert.pub")
    assert info.valid_before - info.valid_after == 1800 and info.allow == ("diag",)
    refused = run(
        "grant",
        "--ca",
        str(tmp_path / "CA"),
        "--terminal",
        "KSK-0001",
        "--key",
        str(tmp_path / "carol.pub"),
        "--hours",
        "4",
    )
    assert refused.returncode == 6
    assert refused.stderr.strip() == (
        f"error: a window of 4 h is refused: the maximum is 1 h ({tmp_path / 'CA' / 'window.yaml'} "
        "max_hours)"
    )


def test_grant_into_a_missing_directory_is_refused_before_signing(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "CA")
    key = asyncssh.generate_private_key("ssh-ed25519", comment="carol@support")
    key.write_public_key(str(tmp_path / "carol.pub"))
    args = ["--ca", str(ca.dir), "--key", str(tmp_path / "carol.pub")]
    for command in (
        ["grant", "--terminal", "KSK-0001", *args, "--out", str(tmp_path / "no" / "c.pub")],
        ["host-cert", "--terminal", "KSK-0001", *args, "--out", str(tmp_path / "no" / "c.pub")],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "remote.cli", "remote", *command],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr == f"error: --out {tmp_path}/no/c.pub: no directory {tmp_path}/no\n"
    assert (ca.dir / "serial").read_text().strip() == "0"  # nothing was signed


def test_a_private_key_given_for_the_public_one_is_refused_before_signing(tmp_path: Path) -> None:
    """``--key alice`` (the private key, not alice.pub) was signed, with "alice" as the key id."""
    ca = CertificateAuthority.init(tmp_path / "CA")
    key = asyncssh.generate_private_key("ssh-ed25519", comment="alice@support")
    key.write_private_key(str(tmp_path / "alice"))
    key.write_public_key(str(tmp_path / "alice.pub"))
    secret = (tmp_path / "alice").read_text().splitlines()[1]
    grant = [
        "grant",
        "--ca",
        str(ca.dir),
        "--terminal",
        "KSK-0001",
        "--key",
        str(tmp_path / "alice"),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "remote.cli", "remote", *grant],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"error: {tmp_path}/alice is a private key (it stays with its owner); "
        f"give its public key, {tmp_path}/alice.pub\n"
    )
    assert secret not in done.stderr
    assert (ca.dir / "serial").read_text().strip() == "0"  # nothing was signed
    assert not (ca.dir / "records.sqlite").exists() and not (tmp_path / "alice-cert.pub").exists()
    key.write_private_key(str(tmp_path / "alice.pem"), "pkcs8-pem")
    with pytest.raises(ConfigError, match=r"alice.pem is a private key .*alice.pem.pub$"):
        read_public_key(tmp_path / "alice.pem")
    assert read_public_key(tmp_path / "alice.pub").get_comment() == "alice@support"


def test_a_window_must_have_a_positive_length(
    ca: CertificateAuthority, engineer: asyncssh.SSHKey
) -> None:
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match=r"a window of -1 h is refused: --hours must be > 0"):
        ca.grant(["KSK-0001"], engineer, hours=-1)
