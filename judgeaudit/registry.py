"""``Registry[T]``: named things (judge families, graders, operators, processors) in one idiom.

Entries are registered directly (``registry.register("name", obj)``), as a decorator
(``@registry.register("name")``), or lazily as ``"module:attr"`` so that importing the
package that owns the registry does not import every entry's dependencies. Looking up an
unknown name raises ``UnknownName`` (a KeyError) whose message lists the known names.
"""

from __future__ import annotations

import importlib
from typing import Callable, Generic, Iterator, TypeVar, overload

T = TypeVar("T")
_MISSING = object()


class UnknownName(KeyError):
    """A name no entry is registered under; the message lists the known names."""

    def __str__(self) -> str:
        # KeyError's own str() quotes its message; this one reads as a sentence.
        return str(self.args[0])


class Registry(Generic[T]):
    """Names to entries, in registration order; ``what`` names an entry in error messages."""

    def __init__(self, what: str):
        self.what = what
        self._order: list[str] = []
        self._entries: dict[str, T] = {}
        self._lazy: dict[str, str] = {}

    def _claim(self, name: str) -> None:
        if name in self._entries or name in self._lazy:
            raise ValueError(f"{self.what} {name!r} registered twice")
        self._order.append(name)

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, entry: T) -> T: ...

    def register(self, name: str, entry=_MISSING):
        """Register ``entry`` under ``name``; without ``entry``, a decorator that does so."""
        if entry is not _MISSING:
            self._claim(name)
            self._entries[name] = entry
            return entry

        def decorate(obj: T) -> T:
            self.register(name, obj)
            return obj
        return decorate

    def register_lazy(self, name: str, target: str) -> None:
        """Register ``module:attr``, imported the first time ``name`` is looked up."""
        module, sep, attr = target.partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"{self.what} {name!r}: lazy target must read 'module:attr', got {target!r}")
        self._claim(name)
        self._lazy[name] = target

    def __getitem__(self, name: str) -> T:
        if name not in self._entries:
            target = self._lazy.get(name)
            if target is None:
                raise UnknownName(f"unknown {self.what} {name!r}; known: {', '.join(sorted(self._order))}")
            module, _, attr = target.partition(":")
            self._entries[name] = getattr(importlib.import_module(module), attr)
            del self._lazy[name]
        return self._entries[name]

    def get(self, name: str, default: T | None = None) -> T | None:
        return self[name] if name in self else default

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._lazy

    def names(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._order)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._order)

    def values(self) -> list[T]:
        """Every entry (lazy ones imported), in registration order."""
        return [self[name] for name in self.names()]

    def items(self) -> list[tuple[str, T]]:
        return [(name, self[name]) for name in self.names()]

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {self.names()})"
