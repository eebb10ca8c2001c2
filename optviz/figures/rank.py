"""The rank figure kind: optimizers x test functions at each optimizer's tuned lr, as a heatmap,
a Markdown table in the report and a JSON/CSV export."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

from optviz.figures.kind import Computed, FigureKind, safe_stem
from optviz.hooks import Hooks
from optviz.spec.rank import RankSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def compute(spec: RankSpec, hooks: Hooks) -> Computed:
    """Spec -> plans -> one lr search per pair (engines.rank) -> result and its table."""
    from optviz.engines.rank import default_functions, default_optimizers, run_rank
    from optviz.plan.optimizers import distinct_labels, plan_optimizer
    from optviz.registry import FUNCTIONS
    from optviz.spec.figures import OptimizerSpec

    specs = list(spec.optimizers) or [OptimizerSpec(name=n) for n in default_optimizers()]
    plans = distinct_labels([plan_optimizer(o, common=spec.settings) for o in specs])
    plans = [replace(p, label=_short(p.label)) for p in plans]
    functions = [FUNCTIONS.resolve(f) for f in (spec.functions or default_functions())]
    jobs = spec.jobs or ((os.cpu_count() or 1) if len(plans) * len(functions) >= 8 else 1)
    result = run_rank(functions, plans, starts=spec.starts, seed=spec.seed, steps=spec.steps,
                      tol=spec.tol, device=spec.device, dtype=spec.dtype, colour=spec.colour,
                      progress=hooks.task("rank"), jobs=jobs)
    diverged = [f"{result.optimizers[i]} diverged at every lr on {f}"
                for i, row in enumerate(result.cells)
                for f, cell in zip(result.functions, row, strict=True) if cell.lr is None]
    return Computed(result, diverged=diverged, summary=[result.to_markdown().rstrip()])


def _short(label: str) -> str:
    """``Adam (lr=0.001)`` -> ``Adam``: every lr is tuned, so the default one means nothing;
    other settings stay (``SGD (momentum=0.9)``)."""
    import re

    out = re.sub(r"lr=[^,)]*(, )?", "", label)
    return out.replace(" ()", "").strip()


def draw(computed: Computed, spec: RankSpec) -> Figure:
    from optviz.render.rank import rank_figure

    return rank_figure(computed.result, spec.title)


def stem(spec: RankSpec) -> str:
    """``rank``, or ``rank_adam_sgd`` when optimizers are named."""
    names = "_".join(o.name for o in spec.optimizers[:4])
    return safe_stem("rank" + (f"_{names}" if names else ""))


KIND = FigureKind("rank", RankSpec, compute, draw, stem)
