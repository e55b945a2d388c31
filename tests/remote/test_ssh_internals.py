"""The asyncssh internals the agent relies on (remote/ssh_internals.py) hold in the installed
asyncssh, and a change to any of them is named, not met as an AttributeError mid-login."""

from __future__ import annotations

import pytest
from asyncssh import public_key
from asyncssh.connection import SSHServerConnection
from asyncssh.public_key import SSHOpenSSHCertificateV01

from remote import ssh_internals
from workbench.errors import RemoteError

check = ssh_internals.check.__wrapped__  # uncached: each test changes asyncssh under it


def test_the_installed_asyncssh_has_every_private_part() -> None:
    check()


def test_a_moved_userauth_step_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SSHServerConnection, "_finish_userauth", None)
    with pytest.raises(RemoteError, match=r"_finish_userauth is gone.*ssh_internals.py"):
        check()

    async def other(self, method):  # type: ignore[no-untyped-def]
        pass

    monkeypatch.setattr(SSHServerConnection, "_finish_userauth", other, raising=False)
    with pytest.raises(RemoteError, match=r"_finish_userauth\(self, method\) changed"):
        check()


def test_changed_certificate_internals_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public_key, "_certificate_version_map", {})
    monkeypatch.setattr(SSHOpenSSHCertificateV01, "_user_extension_decoders", [])
    with pytest.raises(RemoteError) as caught:
        check()
    text = str(caught.value)
    assert "extension tables changed shape" in text
    assert "no longer maps ssh-ed25519" in text
    assert text.startswith("asyncssh ") and "checked with 2.24" in text
