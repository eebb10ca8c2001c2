"""The surfaces drawn under paths: the test function (or the linear model's loss) sampled
over a figure's view, and over a zoom inset's own box. Shared by the still and the animation
figure kinds."""

from __future__ import annotations

from typing import Any

from optviz.engines.model import model_surface
from optviz.engines.single import surface
from optviz.registry import FUNCTIONS
from optviz.render.trajectory import choose_view, end_box, zoom_needed
from optviz.results import Surface, TrajectoryResult
from optviz.spec.figures import TrajectorySpec


def surface_for(result: TrajectoryResult, view: Any = None) -> tuple[Surface, Any]:
    """The surface under a result's paths, sampled over ``view`` (by default the one
    ``choose_view`` picks for them): the test function's, or the linear model's loss on its
    weights or their PCA plane."""
    view = view if view is not None else choose_view(result)
    if result.problem is not None:
        return model_surface(result, view), view
    return surface(FUNCTIONS.resolve(result.function), view), view


def inset_surface(result: TrajectoryResult, view: Any, spec: TrajectorySpec) -> Surface | None:
    """The function sampled over the zoom inset's own box, so the inset's contours are as
    smooth as the panel's (the panel's grid, magnified, draws staircases); None without an
    inset."""
    if not (spec.zoom and spec.view != "3d" and result.dim == 2 and result.problem is None
            and zoom_needed(result, view)):
        return None
    x0, x1, y0, y1 = end_box(result, view)
    return surface(FUNCTIONS.resolve(result.function), [(x0, x1), (y0, y1)], resolution=200)
