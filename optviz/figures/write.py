"""From a spec to a picture and exports: the one code path every command and config uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optviz.errors import BadValueError
from optviz.export.data import export_text
from optviz.export.files import atomic_write, check_outputs
from optviz.spec.figures import TrajectorySpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from optviz.results import Surface, TrajectoryResult


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
    from optviz.engines.single import run_trajectory
    from optviz.engines.sweep import plan_trajectory
    from optviz.registry import FUNCTIONS

    function = FUNCTIONS.resolve(spec.function)
    lookahead = (spec.lookahead.k, spec.lookahead.alpha) if spec.lookahead else None
    # plan_optimizer for each optimizer, with any lr: auto picked by a batched lr sweep.
    plans = plan_trajectory(spec, function, lookahead)
    if spec.model == "linear":
        return _run_model_spec(spec, plans)
    schedulers = [plan_run_scheduler(spec.scheduler, p, spec.steps) for p in plans] \
        if spec.scheduler else None
    return run_trajectory(function, plans, start=spec.start, steps=spec.steps,
                          device=spec.device, dtype=spec.dtype, seed=spec.seed,
                          schedulers=schedulers, show_state=spec.show_state)


def _run_model_spec(spec: TrajectorySpec, plans: list[Any]) -> TrajectoryResult:
    """The linear model: steps are epochs x batches; the scheduler is planned on that. A run
    with its own batch_size says so in its label when the figure mixes batch sizes."""
    import math
    from dataclasses import replace

    from optviz.engines.model import batch_label, effective_batch, run_linear

    sizes = [spec.batch_size if o.batch_size is None else o.batch_size for o in spec.optimizers]
    if len(set(sizes)) > 1:
        plans = [p if o.label else replace(p, label=f"{p.label}, {batch_label(b, spec.samples)}")
                 for p, o, b in zip(plans, spec.optimizers, sizes, strict=True)]
    schedulers = None
    if spec.scheduler:
        schedulers = []
        for plan, size in zip(plans, sizes, strict=True):
            steps = spec.epochs * math.ceil(spec.samples / effective_batch(size, spec.samples))
            schedulers.append(plan_run_scheduler(spec.scheduler, plan, steps, spec.epochs,
                                                 spec.interval))
    return run_linear(plans, in_features=spec.in_features, out_features=spec.out_features,
                      bias=spec.bias, samples=spec.samples, batch_size=sizes,
                      epochs=spec.epochs, noise=spec.noise, seed=spec.seed, device=spec.device,
                      dtype=spec.dtype, schedulers=schedulers, interval=spec.interval,
                      show_state=spec.show_state)


def plan_run_scheduler(sched: Any, plan: Any, steps: int, epochs: int = 1,
                       interval: str = "step") -> Any:
    """Plan a scheduler against one optimizer's run: its LR and length fill T_max etc."""
    from optviz.plan.schedulers import RunShape, plan_scheduler
    from optviz.registry.signatures import signature_params

    lr = plan.kwargs.get("lr", signature_params(plan.factory).get("lr", 1e-3))
    run = RunShape(lrs=(float(lr),), epochs=epochs, steps_per_epoch=max(1, steps // epochs),
                   interval=interval)
    return plan_scheduler(sched, run)


def surface_for(result: TrajectoryResult) -> tuple[Surface, Any]:
    """The surface under a result's paths, sampled over the view chosen for them: the test
    function's, or the linear model's loss on its weights or their PCA plane."""
    from optviz.engines.single import surface
    from optviz.registry import FUNCTIONS
    from optviz.render.trajectory import choose_view

    view = choose_view(result)
    if result.problem is not None:
        from optviz.engines.model import model_surface

        return model_surface(result, view), view
    return surface(FUNCTIONS.resolve(result.function), view), view


def draw_trajectory(result: TrajectoryResult) -> Figure:
    """Result -> figure, with the surface sampled over the chosen view."""
    from optviz.render.trajectory import trajectory_figure

    drawn = result.drawn()  # a diverged run stops in the picture where it left the view
    grid, view = surface_for(drawn)
    return trajectory_figure(drawn, grid, view)


def default_name(spec: Any) -> Path:
    """A file name derived from the call: ``trajectory_quadratic_adam+sgd.png``."""
    if spec.kind == "schedule":
        names = "+".join(s.name for s in spec.schedulers) if spec.layout == "overlay" else ""
        stem = "schedule_" + (names or "panels")
    elif spec.kind in ("sweep", "basin"):
        stem = f"{spec.kind}_{spec.function}_{spec.optimizer.name}"
    elif spec.kind != "trajectory":
        stem = spec.kind
    elif spec.layout == "panels":
        stem = f"trajectory_{spec.function}_panels"
    elif spec.model:
        stem = f"trajectory_{spec.model}_" + "+".join(o.name for o in spec.optimizers)
    else:
        names = "+".join(o.name for o in spec.optimizers)
        stem = f"trajectory_{spec.function}_{names}"
    return Path(re.sub(r"[^A-Za-z0-9_.+-]+", "-", stem)[:120] + ".png")


def render_trajectory(spec: TrajectorySpec) -> Rendered:
    """Spec -> result -> PNG bytes, with nothing written."""
    from optviz.render.style import png_bytes

    result = run_trajectory_spec(spec)
    fig = draw_trajectory(result)
    if spec.title:
        fig.suptitle(spec.title, fontsize=13)
    return Rendered(spec=spec, png=png_bytes(fig), data=result.to_dict(), result=result)


def render_panels(spec: TrajectorySpec) -> Rendered:
    """A grid of trajectory panels: each panel's spec is run and drawn on its own axes."""
    from optviz.render.style import png_bytes
    from optviz.render.trajectory import panels_figure
    from optviz.results import PanelsResult

    items, results = [], []
    for panel, sub in zip(spec.panels, spec.panel_specs(), strict=True):
        result = run_trajectory_spec(sub)
        drawn = result.drawn()
        grid, view = surface_for(drawn)
        items.append((panel.title, drawn, grid, view))
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
    check_outputs(image, export)
    rendered = render_spec(spec)
    # Build every file's bytes before writing any, so a failure leaves nothing behind.
    text = export_text(rendered.result, export) if export is not None else None
    atomic_write(image, rendered.png)
    if export is not None:
        atomic_write(export, text)
    return Written(result=rendered.result, image=image, export=export)


def schedule_metric(text: str | None, run: Any, seed: int = 0
                    ) -> tuple[list[float] | None, str]:
    """The metric ReduceLROnPlateau steps on, one value per scheduler step, and where it came
    from: a trace file (``trace.csv``), a formula in ``step``, a built-in source by name, or
    (by default, values None) the loss of the linear model the scheduled optimizer trains."""
    from optviz.engines.schedule import DEFAULT_METRIC, LINEAR_METRIC, METRIC_SOURCES
    from optviz.formula import compile_formula

    n = run.scheduler_steps
    if text is None or text == LINEAR_METRIC:
        return None, DEFAULT_METRIC
    if text in METRIC_SOURCES:
        return METRIC_SOURCES[text](n, seed), text
    path = Path(text)
    if is_trace(text):
        values = read_trace(path)
        if len(values) < n:
            raise BadValueError(f"--metric {path}: {len(values)} value(s), but the run steps "
                                f"the scheduler {n} times and needs one per step")
        return values[:n], str(path)
    formula = compile_formula(text, ("step", "epoch"))
    # The metric is measured at the optimizer step after which the scheduler steps.
    at = range(n) if run.interval == "step" else (
        (k + 1) * run.steps_per_epoch - 1 for k in range(n))
    return [formula(i, i // run.steps_per_epoch) for i in at], text


TRACE_COLUMNS = ("metric", "loss", "val_loss", "value")
TRACE_SUFFIXES = (".csv", ".tsv", ".txt")


def is_trace(text: str, folder: Path | None = None) -> bool:
    """Whether a metric names a trace file: a .csv/.tsv/.txt name, or a file that exists
    (looked up in ``folder`` when given)."""
    path = Path(text)
    if path.suffix.lower() in TRACE_SUFFIXES:
        return True
    return ((folder / path) if folder is not None else path).is_file()


def _metric_holders(spec: Any) -> list[Any]:
    """The parts of a schedule spec that may name a metric: the figure and its panels."""
    from optviz.spec.figures import ScheduleSpec

    return [spec, *spec.panels] if isinstance(spec, ScheduleSpec) else []


def anchor_traces(spec: Any, folder: Path) -> Any:
    """The spec with every relative trace-file metric joined to ``folder``, the config's own:
    a config names its trace beside itself, wherever it is rendered from."""
    from optviz.spec.figures import ScheduleSpec

    if not isinstance(spec, ScheduleSpec):
        return spec

    def anchored(metric: str | None) -> str | None:
        if metric is None or Path(metric).is_absolute() or not is_trace(metric, folder):
            return metric
        return str(folder / metric)

    panels = [p.model_copy(update={"metric": anchored(p.metric)}) for p in spec.panels]
    return spec.model_copy(update={"metric": anchored(spec.metric), "panels": panels})


def trace_files(spec: Any) -> list[Path]:
    """The trace files a spec reads, in order, each once: what a cached figure depends on
    besides its config."""
    paths = [Path(h.metric) for h in _metric_holders(spec) if h.metric and is_trace(h.metric)]
    return list(dict.fromkeys(paths))


def read_trace(path: Path) -> list[float]:
    """Numbers from a CSV trace: the column named metric/loss/val_loss/value if there is a
    header, else the last column."""
    import csv

    try:
        text = path.read_text()
    except OSError as exc:
        raise BadValueError(f"--metric {path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise BadValueError(f"--metric {path}: not UTF-8 text") from None
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    rows = [(line, r) for line, r in enumerate(csv.reader(text.splitlines(), dialect=dialect), 1)
            if any(c.strip() for c in r)]
    if not rows:
        raise BadValueError(f"--metric {path}: the file is empty")
    column = -1
    try:
        [float(c) for c in rows[0][1]]
    except ValueError:
        header = [c.strip().lower() for c in rows[0][1]]
        rows = rows[1:]
        column = next((header.index(c) for c in TRACE_COLUMNS if c in header), -1)
    values = []
    for line, row in rows:
        try:
            values.append(float(row[column]))
        except (ValueError, IndexError):
            raise BadValueError(f"--metric {path}: line {line} has no number in the metric "
                                f"column") from None
    return values


def run_schedule_spec(spec: Any) -> Any:
    """Resolve names and run the schedule engine: spec -> registries -> engine -> result."""
    from optviz.engines.schedule import run_schedules
    from optviz.plan.optimizers import plan_optimizer
    from optviz.plan.schedulers import RunShape, check_common, plan_scheduler

    run = RunShape(lrs=tuple(spec.lr), epochs=spec.epochs, steps_per_epoch=spec.steps_per_epoch,
                   interval=spec.interval)
    plans = [plan_scheduler(s, run, spec.settings) for s in spec.schedulers]
    check_common(spec.settings, plans)
    optimizer = plan_optimizer(spec.optimizer, lr=spec.lr[0])
    metric, source = schedule_metric(spec.metric, run, spec.seed)
    return run_schedules(plans, optimizer, run, metric, source, spec.seed)


def render_schedule(spec: Any) -> Rendered:
    """Schedule spec -> result -> PNG bytes, with nothing written."""
    from optviz.render.schedule import schedule_figure
    from optviz.render.style import png_bytes

    if spec.layout == "panels":
        return render_schedule_panels(spec)
    result = run_schedule_spec(spec)
    fig = schedule_figure(result, grid_layout=spec.grid, log_y=spec.log_y, title=spec.title)
    return Rendered(spec=spec, png=png_bytes(fig), data=result.to_dict(), result=result)


def render_schedule_panels(spec: Any) -> Rendered:
    """A grid of schedule panels: each panel's spec is run and overlaid in its own cell."""
    from optviz.render.schedule_panels import schedule_panels_figure
    from optviz.render.style import png_bytes
    from optviz.results import PanelsResult

    items, results = [], []
    for panel, sub in zip(spec.panels, spec.panel_specs(), strict=True):
        result = run_schedule_spec(sub)
        items.append((panel.title, result, sub.log_y))
        results.append(result)
    rows, cols = spec.panel_grid()
    fig = schedule_panels_figure(items, rows, cols, spec.title)
    panels = PanelsResult(titles=[p.title for p in spec.panels], results=results,
                          kind="schedule")
    return Rendered(spec=spec, png=png_bytes(fig), data=panels.to_dict(), result=panels)


RENDERERS["schedule"] = render_schedule


def render_sweep(spec: Any) -> Rendered:
    """An lr sweep from a config: final loss against lr, beside the best lr's path."""
    from optviz.engines.sweep import compute_sweep, draw_sweep_result
    from optviz.render.style import png_bytes

    result = compute_sweep(spec)
    return Rendered(spec=spec, png=png_bytes(draw_sweep_result(result, spec.title)),
                    data=result.to_dict(), result=result)


def render_basin(spec: Any) -> Rendered:
    """A basin map from a config: final loss (or steps) from every start of a grid."""
    from optviz.engines.basin import compute_basin, draw_basin_result
    from optviz.render.style import png_bytes

    result = compute_basin(spec)
    return Rendered(spec=spec, png=png_bytes(draw_basin_result(result, spec.title)),
                    data=result.to_dict(), result=result)


RENDERERS["sweep"] = render_sweep
RENDERERS["basin"] = render_basin
