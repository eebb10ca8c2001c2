"""From a spec to a picture and exports: the one code path every command and config uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optviz.errors import BadValueError
from optviz.export import check_format, export_text
from optviz.outputs import atomic_write, check_writable
from optviz.spec import TrajectorySpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from optviz.result import TrajectoryResult


@dataclass
class Rendered:
    """A drawn figure held in memory: PNG bytes and the data an export or sidecar holds."""

    spec: Any
    png: bytes
    data: dict[str, Any]
    result: Any


@dataclass
class Written:
    """What a command wrote, for the summary line it prints."""

    result: Any
    image: Path | None
    export: Path | None


def run_trajectory_spec(spec: TrajectorySpec) -> TrajectoryResult:
    """Resolve names and run the engine: spec -> registry -> engine -> result."""
    from optviz.engine import run_trajectory
    from optviz.functions import FUNCTIONS
    from optviz.optimizers import plan_optimizer

    function = FUNCTIONS.resolve(spec.function)
    plans = [plan_optimizer(o, lr=spec.lr, common=spec.settings) for o in spec.optimizers]
    return run_trajectory(function, plans, start=spec.start, steps=spec.steps,
                          device=spec.device, dtype=spec.dtype, seed=spec.seed)


def draw_trajectory(result: TrajectoryResult) -> Figure:
    """Result -> figure, with the surface sampled over the chosen view."""
    from optviz.engine import surface
    from optviz.functions import FUNCTIONS
    from optviz.render.trajectory import choose_view, trajectory_figure

    view = choose_view(result)
    grid = surface(FUNCTIONS.resolve(result.function), view)
    return trajectory_figure(result, grid, view)


def default_name(spec: TrajectorySpec) -> Path:
    """A file name derived from the call: ``trajectory_quadratic_adam+sgd.png``."""
    names = "+".join(o.name for o in spec.optimizers)
    stem = re.sub(r"[^A-Za-z0-9_.+-]+", "-", f"trajectory_{spec.function}_{names}")
    return Path(stem[:120] + ".png")


def render_trajectory(spec: TrajectorySpec) -> Rendered:
    """Spec -> result -> PNG bytes, with nothing written."""
    from optviz.render.style import png_bytes

    result = run_trajectory_spec(spec)
    return Rendered(spec=spec, png=png_bytes(draw_trajectory(result)), data=result.to_dict(),
                    result=result)


def render_spec(spec: Any) -> Rendered:
    """Any figure spec to a rendered figure; the kind picks the path."""
    return RENDERERS[spec.kind](spec)


RENDERERS: dict[str, Any] = {"trajectory": render_trajectory}


def trajectory(spec: TrajectorySpec) -> Written:
    """Run, draw and write a trajectory figure (and an export, if the spec asks for one)."""
    image = Path(spec.output) if spec.output else default_name(spec)
    export = Path(spec.export) if spec.export else None
    if image.suffix.lower() != ".png":
        raise BadValueError(f"output {image}: optviz writes PNG files; use a .png name")
    check_writable(image)
    if export is not None:
        check_format(export)
        check_writable(export)
    rendered = render_spec(spec)
    atomic_write(image, rendered.png)
    if export is not None:
        atomic_write(export, export_text(rendered.result, export))
    return Written(result=rendered.result, image=image, export=export)
