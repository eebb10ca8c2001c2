"""The Python API for notebooks and scripts: the same figures as the command line, with the
same specs, write path and errors.

Keyword names are the command's flags in snake_case (``function=``, ``steps=``, ``lr=``,
``show_state=``); any other keyword is an optimizer (or scheduler) setting for every name, as
``--momentum 0.9`` is on the command line. Each call returns a :class:`Picture`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optviz.config import load_any, parse_config
from optviz.errors import BadValueError
from optviz.export.data import to_json
from optviz.export.files import atomic_write
from optviz.figures.outputs import check_suffix
from optviz.figures.write import Rendered, render_figure
from optviz.names import suggest
from optviz.spec.basin import BasinSpec
from optviz.spec.figures import ScheduleSpec, TrajectorySpec, build, resolved_config
from optviz.spec.sweep import SweepSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class Picture:
    """A computed figure: ``.figure`` (a matplotlib ``Figure``), ``.data`` (exactly the dict
    that ``--export x.json`` writes), ``.config`` (the resolved config), ``.save(path)`` (the
    format by the suffix: png, svg, pdf and the other outputs optviz writes). Shows itself in
    Jupyter."""

    def __init__(self, rendered: Rendered) -> None:
        self._rendered = rendered

    @property
    def figure(self) -> Figure:
        return self._rendered.figure

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(to_json(self._rendered.result))

    @property
    def config(self) -> dict[str, Any]:
        return resolved_config(self._rendered.spec)

    @property
    def result(self) -> Any:
        """The result object the figure was drawn from (runs, losses, lrs...)."""
        return self._rendered.result

    @property
    def warnings(self) -> list[str]:
        """What the command line would print as warnings (a schedule's lint)."""
        return list(self._rendered.computed.warnings)

    def save(self, path: str | Path, dpi: int | None = None) -> Path:
        """Write the picture; the format follows the suffix. Returns the path."""
        path = Path(path)
        check_suffix(path)
        return atomic_write(path, self._rendered.image_bytes(path.suffix, dpi))

    def _repr_png_(self) -> bytes:
        return self._rendered.image_bytes(".png", 100)

    def __repr__(self) -> str:
        spec = self._rendered.spec
        return f"<optviz.Picture {spec.kind}: {self._rendered.kind.stem(spec)}>"


def _split(model: type[Any], options: Mapping[str, Any], names_key: str) -> dict[str, Any]:
    """The figure's own keys, and every other keyword as a setting for every name."""
    own = set(model.model_fields) - {"kind", names_key, "settings"}
    data: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    for key, value in options.items():
        if key in own or key in ("output", "export"):
            data[key] = value
        else:
            settings[key] = value
    if settings:
        data["settings"] = settings
    return data


def _check_typos(model: type[Any], options: Mapping[str, Any], known: set[str]) -> None:
    """A keyword that is no setting any registered name takes but is close to a figure key is
    a misspelt key (``stpes=10``): say so, as the command line does for ``--stpes``."""
    keys = [k for k in model.model_fields if k != "kind"]
    for key in options:
        if key not in keys and key not in known:
            close = suggest(key, keys, n=1)
            if close:
                raise BadValueError(f"no such option: {key}; did you mean {close[0]}?")


def _picture(spec: Any) -> Picture:
    return Picture(render_figure(spec))


def trajectory(*optimizers: str | Mapping[str, Any], **options: Any) -> Picture:
    """Optimizer paths on a test function (or a linear model), beside the loss:
    ``optviz.trajectory("adam", "sgd:momentum=0.9", function="rosenbrock", lr=0.01)``."""
    from optviz.plan.optimizers import builtin_settings

    _check_typos(TrajectorySpec, options, builtin_settings())
    data = _split(TrajectorySpec, options, "optimizers")
    return _picture(build(TrajectorySpec, {"optimizers": list(optimizers), **data}))


def schedule(*schedulers: str | Mapping[str, Any], **options: Any) -> Picture:
    """Learning rate against step for LR schedulers: ``optviz.schedule("onecycle",
    optimizer="sgd:momentum=0.9", epochs=4)``."""
    from optviz.plan.schedulers import boolean_settings

    lr = options.get("lr")
    if isinstance(lr, (int, float)) and not isinstance(lr, bool):
        options = {**options, "lr": [lr]}
    _check_typos(ScheduleSpec, options, boolean_settings() | _scheduler_settings())
    data = _split(ScheduleSpec, options, "schedulers")
    return _picture(build(ScheduleSpec, {"schedulers": list(schedulers), **data}))


def _scheduler_settings() -> set[str]:
    from optviz.registry import SCHEDULERS
    from optviz.registry.schedulers import valid_settings

    return {k for r in SCHEDULERS if not r.plugin for k in valid_settings(r.load())}


def sweep(optimizer: str | Mapping[str, Any], **options: Any) -> Picture:
    """One optimizer at every lr of a grid, in one batch: ``optviz.sweep("adam",
    function="rosenbrock", lr="1e-4:1:64", steps=200)``."""
    from optviz.plan.optimizers import builtin_settings

    _check_typos(SweepSpec, options, builtin_settings())
    return _picture(build(SweepSpec, {"optimizer": optimizer,
                                      **_split(SweepSpec, options, "optimizer")}))


def basin(optimizer: str | Mapping[str, Any], **options: Any) -> Picture:
    """A basin map: final loss from every start of a grid: ``optviz.basin("adam",
    function="rosenbrock", grid=64, lr=0.05)``."""
    from optviz.plan.optimizers import builtin_settings

    _check_typos(BasinSpec, options, builtin_settings())
    return _picture(build(BasinSpec, {"optimizer": optimizer,
                                      **_split(BasinSpec, options, "optimizer")}))


def render(config: str | Path | Mapping[str, Any], allow_imports: bool = False) -> Picture:
    """Any figure from a config: a path (YAML, or a PNG/SVG/JSON that carries its config), a
    YAML string, or a dict."""
    if isinstance(config, Mapping):
        import yaml

        text = yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True)
        return _picture(parse_config(text, "<dict>", allow_imports))
    if isinstance(config, Path) or ("\n" not in config and Path(config).is_file()):
        spec, _ = load_any(config, allow_imports)
        return _picture(spec)
    return _picture(parse_config(config, "<string>", allow_imports))
