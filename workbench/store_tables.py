"""What every part of the records store shares: the engine it goes through, a write as one
transaction, rows selected in the order they were written, and JSON columns.

:class:`workbench.store.RecordStore` is made of parts (:mod:`workbench.store_remote`,
:mod:`workbench.store_service`), each one concept over the same tables; this base is all they
share, so what one part may touch of the store is written here and nowhere else.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

from workbench.store_engines import Engine, Row, Tx


def dump_json(value: Any) -> str | None:
    """A JSON column's text (None stays NULL); keys sorted, so equal values store equal text."""
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def load_json(text: str | None) -> Any:
    """A JSON column's value (NULL reads as None)."""
    return None if text is None else json.loads(text)


class Tables:
    """The store's engine and the two ways its parts use it: a write, a select."""

    engine: Engine

    def _write(self) -> AbstractContextManager[Tx]:
        return self.engine.transaction()

    def _select(
        self, table: str, since: tuple[str, float] | None = None, **equal: Any
    ) -> list[Row]:
        """Rows of ``table`` in insertion order, where each given column equals its value (None
        means any) and ``since``'s column is at least its value."""
        clauses, params = [], []
        if since is not None:
            clauses.append(f"{since[0]} >= ?")
            params.append(since[1])
        for column, value in equal.items():
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self.engine.query(f"SELECT * FROM {table}{where} ORDER BY id", params)
