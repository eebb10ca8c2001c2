"""File output: every file appears whole or not at all (temporary file, then rename)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from optviz.errors import OutputError


def check_writable(path: Path) -> None:
    """Fail early, before any work, if ``path`` cannot be written."""
    if "\0" in str(path):
        raise OutputError(f"cannot write {str(path)!r}: a file name cannot hold a NUL byte")
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if not parent.exists():
        raise OutputError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path}: directory {parent} is not writable")


def _temp_prefix(path: Path) -> str:
    """``.NAME.PID-``: the writer's pid in the name, so that a later run can tell a file left
    by a killed writer from one that a running writer is about to rename."""
    return f".{path.name}.{os.getpid()}-"


# .NAME.PID-RANDOM.tmp, as written above.
_TEMPORARY = re.compile(r"^\..+\.(\d+)-[^.]+\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, but is not ours to signal
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files that writers killed mid-write left under ``folder`` (those
    whose writer is no longer running); returns them."""
    removed = []
    for path in Path(folder).rglob(".*.tmp"):
        match = _TEMPORARY.match(path.name)
        if match and path.is_file() and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    return atomic_write_all({Path(path): data})[0]


def atomic_write_all(files: dict[Path, bytes | str]) -> list[Path]:
    """Write several files as one: every temporary file first, then every rename, so that a
    failure while writing (a full disk, a bad folder) replaces none of them."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            check_writable(path)
            raw = data.encode() if isinstance(data, str) else data
            try:
                fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp",
                                           dir=path.parent)
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror}") from None
            staged.append((tmp, path))
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(raw)
                os.chmod(tmp, 0o644)
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return [Path(p) for p in files]
