"""Registries: frozen records that map names to factories, with lookup, aliases and wildcards.

A record names its factory by dotted path, so listing and lookup never import torch; the
factory is imported only when something is built from it.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Iterator
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
        """Import and return the factory this record points at. A plugin's record (one with a
        ``plugin`` origin) loads checked, so every caller gets load_checked's one line."""
        if getattr(self, "plugin", ""):
            return self.load_checked(self.kind, self.name)
        return load_target(self.target)

    @property
    def kind(self) -> str:
        """What the record names, for messages: OptimizerRecord -> ``optimizer``."""
        return type(self).__name__.removesuffix("Record").lower() or "record"

    def load_checked(self, kind: str, asked: str) -> Any:
        """``load()``, with whatever a broken plugin raises on import turned into one clear
        line naming what was ``asked`` for."""
        try:
            return load_target(self.target)
        except Exception as exc:
            raise UnknownNameError(f"cannot load {kind} {asked!r} ({self.target}): "
                                   f"{type(exc).__name__}: {exc}") from None


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
    """Records of one kind, found by canonical name, alias, class name or dotted path.

    Two hooks extend it beyond the built-in records: ``entry_point_group`` names the
    entry-point group through which installed packages add records (read on first use,
    without importing them), and ``dynamic`` turns an unknown dotted path into a record by
    importing it (plugins on PYTHONPATH, prefixed third-party registries).
    """

    def __init__(
        self,
        kind: str,
        entry_point_group: str | None = None,
        from_entry_point: Callable[[Any], R] | None = None,
        dynamic: Callable[[str], R | None] | None = None,
    ) -> None:
        self.kind = kind
        self._records: dict[str, R] = {}
        self._index: dict[str, str] = {}
        self._group = entry_point_group
        self._from_entry_point = from_entry_point
        self.dynamic = dynamic
        self._plugins_loaded = entry_point_group is None

    def enable_entry_points(self, group: str, make: Callable[[Any], R]) -> None:
        """Read records from the entry-point group ``group`` on first use."""
        self._group, self._from_entry_point = group, make
        self._plugins_loaded = False

    def _load_plugins(self) -> None:
        """Add the records that installed packages declare as entry points (names only)."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from importlib.metadata import entry_points

        assert self._from_entry_point is not None
        for ep in sorted(entry_points(group=self._group), key=lambda e: e.name):
            if normalise(ep.name) in self._index:
                continue  # a plugin cannot shadow a built-in name
            self.add(self._from_entry_point(ep))

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

    def snapshot(self) -> tuple[dict[str, R], dict[str, str]]:
        """The records and names as they stand, for ``restore``: resolving a plugin's dotted
        path adds it, as it should, and a test or a long-lived process may want it gone."""
        return dict(self._records), dict(self._index)

    def restore(self, snapshot: tuple[dict[str, R], dict[str, str]]) -> None:
        """Back to a ``snapshot``: records added since are forgotten."""
        self._records, self._index = dict(snapshot[0]), dict(snapshot[1])

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return normalise(name) in self._index

    def __iter__(self) -> Iterator[R]:
        self._load_plugins()
        return iter(sorted(self._records.values(), key=lambda r: r.name))

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._records)

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._records)

    def targets(self) -> list[str]:
        """The dotted paths of the records' factories, for suggestions on a misspelt path."""
        return sorted({r.target.replace(":", ".") for r in self._records.values()})

    def builtin_names(self) -> list[str]:
        """The names registered in optviz itself, without plugins."""
        return sorted(n for n, r in self._records.items() if not getattr(r, "plugin", ""))

    def resolve(self, name: str) -> R:
        """The record for ``name``; an UnknownNameError with suggestions otherwise."""
        self._load_plugins()
        key = normalise(name)
        if key in self._index:
            return self._records[self._index[key]]
        if self.dynamic is not None and "." in name:
            record = self.dynamic(name)
            if record is not None:
                return self.add(record)
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
