"""YAML configs: one file describes one figure with the same keys as the CLI's flags.

Read with ``yaml.safe_load`` only, so a config can never construct Python objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optviz.errors import BadValueError, OutputError
from optviz.spec import TrajectorySpec, build

KINDS: dict[str, type] = {"trajectory": TrajectorySpec}


def dump_yaml(spec: Any) -> str:
    import yaml

    data = spec.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def load_config(path: Path) -> Any:
    """Read and validate one config file into its spec."""
    import yaml

    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise BadValueError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise BadValueError(f"{path}: a config is a YAML mapping of keys to values")
    kind = data.get("kind", "trajectory")
    if kind not in KINDS:
        raise BadValueError(f"{path}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    return build(KINDS[kind], data, source=str(path))
