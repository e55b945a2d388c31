"""One running simulated kiosk per diagnostics test module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from diag_kiosk import Kiosk, running_kiosk


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kiosk() -> AsyncIterator[Kiosk]:
    """One kiosk for all the tests of a module (they run on the module's event loop)."""
    async for k in running_kiosk():
        yield k
