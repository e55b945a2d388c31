"""A bounded memo of a pure function, read by subscript: ``memo[key]`` is one dict lookup in C
when the key was seen before (no call, no key tuple, no move to the front, as an ``lru_cache``
hit makes), and :meth:`Memo.make` on a miss. When it holds :attr:`Memo.limit` entries it starts
afresh, so a stream of strange keys cannot grow it. The hot paths of a simulated customer (a
POLL's reply, a tap's packets) read such memos at every exchange."""

from __future__ import annotations

from typing import ClassVar, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """``make(key)`` remembered by key, at most :attr:`limit` entries (cleared when full)."""

    limit: ClassVar[int] = 256

    def make(self, key: K) -> V:
        """The value for ``key`` (a pure function of it)."""
        raise NotImplementedError

    def __missing__(self, key: K) -> V:
        value = self.make(key)
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
