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


def default_name(spec: Any) -> Path:
    """A file name derived from the call: ``trajectory_quadratic_adam+sgd.png``."""
    if spec.kind != "trajectory":
        stem = spec.kind
    elif spec.layout == "panels":
        stem = f"trajectory_{spec.function}_panels"
    else:
        names = "+".join(o.name for o in spec.optimizers)
        stem = f"trajectory_{spec.function}_{names}"
    return Path(re.sub(r"[^A-Za-z0-9_.+-]+", "-", stem)[:120] + ".png")


def render_trajectory(spec: TrajectorySpec) -> Rendered:
    """Spec -> result -> PNG bytes, with nothing written."""
    from optviz.render.style import png_bytes

    result = run_trajectory_spec(spec)
    return Rendered(spec=spec, png=png_bytes(draw_trajectory(result)), data=result.to_dict(),
                    result=result)


def render_panels(spec: TrajectorySpec) -> Rendered:
    """A grid of trajectory panels: each panel's spec is run and drawn on its own axes."""
    from optviz.engine import surface
    from optviz.functions import FUNCTIONS
    from optviz.render.style import png_bytes
    from optviz.render.trajectory import choose_view, panels_figure
    from optviz.result import PanelsResult

    items, results = [], []
    for panel, sub in zip(spec.panels, spec.panel_specs(), strict=True):
        result = run_trajectory_spec(sub)
        view = choose_view(result)
        items.append((panel.title, result, surface(FUNCTIONS.resolve(result.function), view),
                      view))
        results.append(result)
    rows, cols = spec.grid()
    fig = panels_figure(items, rows, cols, spec.title)
    panels = PanelsResult(titles=[p.title for p in spec.panels], results=results)
    return Rendered(spec=spec, png=png_bytes(fig), data=panels.to_dict(), result=panels)


def render_ema(spec: Any) -> Rendered:
    """The EMA-weights figure of the torch.optim article."""
    from optviz.render.ema import ema_figure, ema_weights
    from optviz.render.style import png_bytes

    weights = [ema_weights(b, spec.points) for b in spec.betas]
    data = {"kind": "ema", "betas": list(spec.betas), "weights": weights}
    return Rendered(spec=spec, png=png_bytes(ema_figure(spec.betas, weights, spec.title)),
                    data=data, result=data)


def render_spec(spec: Any) -> Rendered:
    """Any figure spec to a rendered figure; the kind (and layout) picks the path."""
    if spec.kind == "trajectory" and spec.layout == "panels":
        return render_panels(spec)
    return RENDERERS[spec.kind](spec)


RENDERERS: dict[str, Any] = {"trajectory": render_trajectory, "ema": render_ema}


def write_figure(spec: Any) -> Written:
    """Run, draw and write any figure (and an export, if the spec asks for one)."""
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
