"""A small generic name -> object registry, shared by metrics, references, feature extractors and trainers."""
from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

from gan_eval.errors import GanEvalError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects; refuses duplicates and suggests close names for typos.

    ``kind`` is the word used in messages ("metric", "reference", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        if name in self._items:
            raise KeyError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def decorate(item: T) -> T:
            return self.add(name, item)

        return decorate

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._items, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise GanEvalError(
                f"unknown {self.kind} {name!r}: {hint}known: {', '.join(sorted(self._items))}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
