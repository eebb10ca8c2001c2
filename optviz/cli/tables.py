"""Discovery: the tables of ``optviz list`` and the details of ``optviz show``."""

from __future__ import annotations

import importlib.util
import inspect
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optviz.errors import UnknownNameError
from optviz.names import did_you_mean
from optviz.plan.labels import format_value
from optviz.plan.schedulers import format_setting
from optviz.registry import FUNCTIONS, OPTIMIZERS, SCHEDULERS
from optviz.registry.functions import FunctionRecord
from optviz.registry.optimizers import OptimizerRecord
from optviz.registry.schedulers import QUANTITIES, SchedulerRecord


def _fmt_point(p: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in p) + ")"


def optimizer_table(pattern: str | None) -> Table:
    table = Table(title="optimizers", title_justify="left")
    for col in ("name", "class", "preset", "quirks", "description"):
        table.add_column(col, overflow="fold")
    for rec in OPTIMIZERS.filter(pattern):
        flags = [f for f, on in (("closure", rec.needs_closure), ("sparse", rec.sparse_grad),
                                 ("2-D", rec.matrix_param)) if on]
        preset = ", ".join(f"{k}={format_value(v)}" for k, v in rec.defaults.items())
        table.add_row(rec.name, rec.target, preset, ", ".join(flags), rec.description)
    return table


def function_table(pattern: str | None) -> Table:
    table = Table(title="functions", title_justify="left")
    for col in ("name", "formula", "domain", "start", "minima", "description"):
        table.add_column(col, overflow="fold")
    for rec in FUNCTIONS.filter(pattern):
        domain = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in rec.domain)
        minima = " ".join(_fmt_point(m) for m in rec.minima) or "none"
        table.add_row(rec.name, rec.formula, domain, _fmt_point(rec.start), minima,
                      rec.description)
    return table


def scheduler_table(pattern: str | None) -> Table:
    table = Table(title="schedulers", title_justify="left")
    for col in ("name", "class", "preset", "from the run", "description"):
        table.add_column(col, overflow="fold")
    for rec in SCHEDULERS.filter(pattern):
        preset = ", ".join(f"{k}={format_setting(v)}" for k, v in rec.defaults.items())
        derived = ", ".join(f"{k} = {QUANTITIES[v]}" for k, v in rec.derived.items())
        table.add_row(rec.name, rec.class_name, escape(preset), escape(derived), rec.description)
    table.caption = PRESET_RULE
    return table


# Which names carry the article's presets: said under the list and in 'optviz show'.
PRESET_RULE = ("presets belong to the short names and their aliases (polynomial, cosine, "
               "plateau...); a class name (PolynomialLR), function name or dotted path gets "
               "the library's own defaults; what the run must supply (T_max, total_steps...) "
               "comes from the run either way")


def print_table(kind: str, pattern: str | None) -> None:
    tables = {"optimizers": optimizer_table, "functions": function_table,
              "schedulers": scheduler_table}
    table = tables[kind](pattern)
    if kind != "functions" and importlib.util.find_spec("pytorch_optimizer") is not None:
        more = (f"and the {kind} of the installed pytorch_optimizer, as "
                "pytorch_optimizer.NAME; any dotted path to a class also resolves")
        table.caption = f"{table.caption}; {more}" if table.caption else more
    console = Console()
    if not table.row_count:
        console.print(f"no {kind} match {pattern!r}")
        return
    console.print(table)


def _show_optimizer(rec: OptimizerRecord, console: Console) -> None:
    from optviz.registry.signatures import signature_params

    factory = rec.load()
    console.print(f"[bold]{rec.name}[/bold]  {rec.target}{inspect.signature(factory)}")
    console.print(rec.description)
    if rec.aliases:
        console.print("aliases: " + ", ".join(rec.aliases))
    table = Table("setting", "default", "preset", title="settings", title_justify="left")
    for key, default in signature_params(factory).items():
        shown = "required" if default is inspect.Parameter.empty else format_value(default)
        preset = format_value(rec.defaults[key]) if key in rec.defaults else ""
        table.add_row(key, shown, preset)
    console.print(table)
    console.print("quirks: " + ("; ".join(rec.quirks) if rec.quirks else "none"))


def _show_function(rec: FunctionRecord, console: Console) -> None:
    console.print(f"[bold]{rec.name}[/bold]  f = {rec.formula}")
    console.print(rec.description)
    console.print("domain: " + " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in rec.domain))
    console.print(f"default start: {_fmt_point(rec.start)}")
    console.print("minima: " + (" ".join(_fmt_point(m) for m in rec.minima) or "none"))
    console.print(f"minimum value: {'unbounded below' if rec.f_min is None else f'{rec.f_min:g}'}")
    console.print(f"contour levels: {'logarithmic' if rec.log_levels else 'quadratic'}")


def _show_scheduler(rec: SchedulerRecord, console: Console, name: str) -> None:
    from optviz.registry.schedulers import valid_settings

    factory = rec.load()
    signature = escape(f"{rec.target}{inspect.signature(factory)}")
    console.print(f"[bold]{rec.name}[/bold]  {signature}")
    console.print(rec.description)
    if rec.aliases:
        console.print("aliases: " + escape(", ".join(rec.aliases)))
    table = Table("setting", "default", "preset", title="settings", title_justify="left")
    for key, default in valid_settings(factory).items():
        shown = "required" if default is inspect.Parameter.empty else format_setting(default)
        if key in rec.defaults:
            preset = format_setting(rec.defaults[key])
        elif key in rec.derived:
            preset = f"from the run: {QUANTITIES[rec.derived[key]]}"
        else:
            preset = ""
        table.add_row(key, escape(shown), escape(preset))
    console.print(table)
    console.print(escape(_preset_line(rec, name)))
    console.print("quirks: " + escape("; ".join(rec.quirks) if rec.quirks else "none"))


def _preset_line(rec: SchedulerRecord, name: str) -> str:
    """Which names carry the preset column, and what the name asked for gets."""
    if not rec.defaults:
        return "preset: none; every name gets the library's own defaults"
    short = [rec.name, *(a for a in rec.aliases if "." not in a)]
    library = {"torch": "torch's", "transformers": "transformers'"}.get(rec.family,
                                                                        "the factory's")
    got = ("carries the preset" if rec.uses_preset(name)
           else f"gets {library} defaults (the default column), not the preset")
    return (f"preset: only {', '.join(short)} carry it; {rec.class_name} and dotted paths get "
            f"{library} defaults. {name} {got}")


def show(name: str) -> None:
    console = Console()
    if name in OPTIMIZERS:
        _show_optimizer(OPTIMIZERS.resolve(name), console)
    elif name in FUNCTIONS:
        _show_function(FUNCTIONS.resolve(name), console)
    elif name in SCHEDULERS:
        _show_scheduler(SCHEDULERS.resolve(name), console, name)
    elif "." in name:  # a plugin's dotted path, or pytorch_optimizer.NAME
        if _is_scheduler_path(name):
            _show_scheduler(SCHEDULERS.resolve(name), console, name)
        else:
            _show_optimizer(OPTIMIZERS.resolve(name), console)
    else:
        known = [*OPTIMIZERS.names(), *FUNCTIONS.names(), *SCHEDULERS.names()]
        raise UnknownNameError(f"unknown name {name!r}{did_you_mean(name, known)}")


def _is_scheduler_path(path: str) -> bool:
    """Whether a dotted path names a scheduler: pytorch_optimizer's scheduler names, a
    subclass of torch's schedulers, or a factory whose first argument is the optimizer."""
    from optviz.registry.core import load_target
    from optviz.registry.plugins import PREFIX

    if path.lower().startswith(PREFIX):
        import pytorch_optimizer

        short = path[len(PREFIX):].lower()
        return (short in pytorch_optimizer.get_supported_lr_schedulers()
                and short not in pytorch_optimizer.get_supported_optimizers())
    try:
        obj = load_target(path)
    except Exception:  # the optimizer registry explains why it cannot be imported
        return False
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

    if isinstance(obj, type):
        return issubclass(obj, (LRScheduler, ReduceLROnPlateau)) or (not issubclass(
            obj, Optimizer) and _first_parameter(obj) == "optimizer")
    return _first_parameter(obj) == "optimizer"


def _first_parameter(obj: Any) -> str:
    try:
        params = list(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return ""
    return params[0] if params else ""
