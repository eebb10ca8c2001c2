"""Registries: frozen records that map names to factories, with lookup, aliases and wildcards.

A record names its factory by dotted path, so listing and lookup never import torch; the
factory is imported only when something is built from it.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from optviz.errors import UnknownNameError
from optviz.names import did_you_mean, normalise


@dataclass(frozen=True)
class Record:
    """What every registry entry has: a canonical name, a factory path and a description."""

    name: str
    target: str
    description: str
    display: str = ""
    aliases: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def label(self) -> str:
        """The human name used in legends and tables."""
        return self.display or self.name

    @property
    def class_name(self) -> str:
        return self.target.replace(":", ".").rsplit(".", 1)[-1]

    def load(self) -> Any:
        """Import and return the factory this record points at."""
        return load_target(self.target)


R = TypeVar("R", bound=Record)


def load_target(target: str) -> Any:
    """Import ``pkg.module.attr`` (or ``pkg.module:attr``) and return the attribute."""
    module_name, _, attr = target.replace(":", ".").rpartition(".")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[R]):
    """Records of one kind, found by canonical name, alias, class name or dotted path."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._records: dict[str, R] = {}
        self._index: dict[str, str] = {}

    def add(self, record: R) -> R:
        if record.name in self._records:
            raise ValueError(f"{self.kind} {record.name!r} registered twice")
        self._records[record.name] = record
        keys = (record.name, *record.aliases)
        for key in keys:
            self._claim(normalise(key), record.name, strong=True)
        # Class names and dotted paths: a preset (gd) shares its class with sgd, so the first
        # record registered for a class keeps the class name.
        for key in (record.class_name, record.target, record.target.replace(":", ".")):
            self._claim(normalise(key), record.name, strong=False)
        return record

    def _claim(self, key: str, name: str, strong: bool) -> None:
        owner = self._index.get(key)
        if owner is None:
            self._index[key] = name
        elif strong and owner != name and normalise(owner) != key:
            # An explicit name or alias beats a class-name claim by another record.
            self._index[key] = name

    def __contains__(self, name: str) -> bool:
        return normalise(name) in self._index

    def __iter__(self) -> Iterator[R]:
        return iter(sorted(self._records.values(), key=lambda r: r.name))

    def __len__(self) -> int:
        return len(self._records)

    def names(self) -> list[str]:
        return sorted(self._records)

    def resolve(self, name: str) -> R:
        """The record for ``name``; an UnknownNameError with suggestions otherwise."""
        key = normalise(name)
        if key in self._index:
            return self._records[self._index[key]]
        candidates = [*self._records, *(a for r in self._records.values() for a in r.aliases)]
        raise UnknownNameError(f"unknown {self.kind} {name!r}{did_you_mean(name, candidates)}")

    def filter(self, pattern: str | None = None) -> list[R]:
        """Records whose name, alias or class name matches a shell-style wildcard, sorted."""
        if not pattern:
            return list(self)
        pat = pattern.lower()
        if not any(ch in pat for ch in "*?["):
            pat = f"*{pat}*"
        out = []
        for record in self:
            keys = (record.name, record.class_name, *record.aliases)
            if any(fnmatch.fnmatchcase(k.lower(), pat) for k in keys):
                out.append(record)
        return out
