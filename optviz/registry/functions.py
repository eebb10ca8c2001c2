"""The analytic test-function registry: formula, domain, default start and known minima.

The records are plain data; their torch implementations live in ``optviz.problems.analytic``
and are imported only when a function is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

from optviz.registry.core import Record, Registry

Point = tuple[float, ...]


@dataclass(frozen=True)
class FunctionRecord(Record):
    """One test function. ``domain`` is ((xmin, xmax),) or ((xmin, xmax), (ymin, ymax))."""

    formula: str = ""
    domain: tuple[tuple[float, float], ...] = ()
    start: Point = ()
    minima: tuple[Point, ...] = ()
    f_min: float | None = None  # global minimum value; None when unbounded below
    log_levels: bool = False  # contour levels spaced logarithmically (steep valleys)
    # Its value and gradient at a row do not depend on where the row sits in a batch: only
    # +, -, x, / and squares or cubes (torch multiplies for those) on any tensor, other powers
    # only on a column (strided, so torch's scalar loop). cos, exp or x**4 on a whole
    # contiguous tensor round apart in torch's vector body and scalar tail on some CPUs.
    # optviz rank then evaluates it once for the rows of every optimizer searching in step.
    position_free: bool = False

    @property
    def dim(self) -> int:
        return len(self.domain)


_A = "optviz.problems.analytic."

FUNCTION_RECORDS: tuple[FunctionRecord, ...] = (
    FunctionRecord(
        "quadratic", _A + "quadratic", "Ill-conditioned bowl of the hand-written-optimizer article",
        formula="x² + 10y²", domain=((-5, 5), (-5, 5)), start=(4.0, 3.0), minima=((0.0, 0.0),),
        f_min=0.0, aliases=("bowl",), position_free=True,
    ),
    FunctionRecord(
        "parabola", _A + "parabola", "1-D parabola of the torch.optim article (lr 0.125 = 1 step)",
        formula="4x²", domain=((-3, 3),), start=(2.0,), minima=((0.0,),), f_min=0.0,
        position_free=True,
    ),
    FunctionRecord(
        "rosenbrock", _A + "rosenbrock", "Banana valley: easy to find, slow to follow",
        formula="(1−x)² + 100(y−x²)²", domain=((-2, 2), (-1, 3)), start=(-1.5, 2.0),
        minima=((1.0, 1.0),), f_min=0.0, log_levels=True, position_free=True,
    ),
    FunctionRecord(
        "rastrigin", _A + "rastrigin", "Egg crate of local minima around a global one",
        formula="20 + Σ x² − 10 cos 2πx", domain=((-5.12, 5.12), (-5.12, 5.12)),
        start=(-2.3, 3.6), minima=((0.0, 0.0),), f_min=0.0,
    ),
    FunctionRecord(
        "beale", _A + "beale", "Flat plateaus and sharp ridges meeting at (3, 0.5)",
        formula="(1.5−x+xy)² + (2.25−x+xy²)² + (2.625−x+xy³)²",
        domain=((-4.5, 4.5), (-4.5, 4.5)), start=(1.0, 1.5), minima=((3.0, 0.5),), f_min=0.0,
        log_levels=True, position_free=True,
    ),
    FunctionRecord(
        "himmelblau", _A + "himmelblau", "Four equal minima: which one a path picks",
        formula="(x²+y−11)² + (x+y²−7)²", domain=((-5, 5), (-5, 5)), start=(0.0, 0.0),
        minima=((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                (3.584428, -1.848126)),
        f_min=0.0, log_levels=True, position_free=True,
    ),
    FunctionRecord(
        "booth", _A + "booth", "A tilted quadratic bowl with its minimum at (1, 3)",
        formula="(x+2y−7)² + (2x+y−5)²", domain=((-10, 10), (-10, 10)), start=(-8.0, -8.0),
        minima=((1.0, 3.0),), f_min=0.0, position_free=True,
    ),
    FunctionRecord(
        "ackley", _A + "ackley", "Nearly flat outer region with a deep central funnel",
        formula="−20e^(−0.2√(½(x²+y²))) − e^(½(cos 2πx + cos 2πy)) + e + 20",
        domain=((-5, 5), (-5, 5)), start=(-3.2, 4.1), minima=((0.0, 0.0),), f_min=0.0,
    ),
    FunctionRecord(
        "saddle", _A + "saddle", "Saddle point at the origin, unbounded below along y",
        formula="x² − y²", domain=((-2, 2), (-2, 2)), start=(-1.8, 0.01), minima=(), f_min=None,
        position_free=True,
    ),
    FunctionRecord(
        "six_hump_camel", _A + "six_hump_camel", "Six minima, two of them global",
        formula="(4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²", domain=((-3, 3), (-2, 2)),
        start=(-1.5, 1.5), minima=((0.0898, -0.7126), (-0.0898, 0.7126)), f_min=-1.031628,
        aliases=("camel",), position_free=True,
    ),
    FunctionRecord(
        "styblinski_tang", _A + "styblinski_tang", "Four basins of unequal depth",
        formula="½ Σ x⁴ − 16x² + 5x", domain=((-5, 5), (-5, 5)), start=(4.0, 4.0),
        minima=((-2.903534, -2.903534),), f_min=-78.332331,
    ),
    FunctionRecord(
        "goldstein_price", _A + "goldstein_price", "Steep, many-scaled surface; minimum 3",
        formula="[1+(x+y+1)²(19−14x+3x²−14y+6xy+3y²)]·[30+(2x−3y)²(18−32x+12x²+48y−36xy+27y²)]",
        domain=((-2, 2), (-2, 2)), start=(-1.5, 1.5), minima=((0.0, -1.0),), f_min=3.0,
        log_levels=True, position_free=True,
    ),
    FunctionRecord(
        "valley", _A + "valley",
        "Long narrow valley: a trough tilted 36.87°, 100x steeper across (torch's default lrs)",
        formula="5(0.8x+0.6y)² + 500(0.8y−0.6x)²", domain=((-0.25, 0.25), (-0.2, 0.2)),
        start=(-0.16, -0.09), minima=((0.0, 0.0),), f_min=0.0,
        aliases=("long_valley", "trough"), position_free=True,
    ),
    FunctionRecord(
        "plateau_saddle", _A + "plateau_saddle",
        "Saddle at the origin on a plateau (f falls as −y⁴ there); minima at (0, ±1)",
        formula="x² + y⁶/6 − y⁴/4", domain=((-2, 2), (-1.6, 1.6)), start=(-1.8, 0.05),
        minima=((0.0, 1.0), (0.0, -1.0)), f_min=-1 / 12, aliases=("flat_saddle",),
        position_free=True,
    ),
)


def register_functions(registry: Registry[FunctionRecord]) -> Registry[FunctionRecord]:
    """Add every built-in test function to ``registry``."""
    for record in FUNCTION_RECORDS:
        registry.add(record)
    return registry
