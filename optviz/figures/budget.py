"""Size estimates before big work: what a figure will take in memory and time, from its spec.
What cannot fit in the memory this machine has free is refused with one line; what will take
more than a minute is announced with an estimate (through the hooks' ``note``).

The rates are measured on one CPU core of a laptop-class machine and are deliberately rough:
they decide between "fine", "say how long" and "cannot fit", not a schedule.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optviz.errors import BadValueError

# Bytes held per start of a basin map (batched state, gradients, the result arrays), and
# start-steps per second of the batched engine.
BASIN_BYTES_PER_START = 500
BASIN_START_STEPS_PER_SECOND = 1e7
# A sweep runs its lrs as one batch: per lr and step the recorded path (x, y, loss).
SWEEP_BYTES_PER_ROW_STEP = 64
SWEEP_SECONDS_PER_STEP = 2e-4
# One optimizer on a test function: per step the path, the loss and the lr as Python numbers
# and in the export (see the README's "Long runs").
TRAJECTORY_BYTES_PER_STEP = 1_000
TRAJECTORY_SECONDS_PER_STEP = 2e-4
# The linear model: the data (float32) and a mini-batch copy, per value of samples x features.
MODEL_BYTES_PER_VALUE = 12
MODEL_VALUE_STEPS_PER_SECOND = 2e8

ETA_NOTE_SECONDS = 60.0


@dataclass(frozen=True)
class Cost:
    """What a figure is estimated to take: bytes of memory and seconds of computing."""

    bytes: float
    seconds: float
    what: str  # the sizes it comes from, for the message


def basin_cost(spec: Any) -> Cost:
    starts = spec.grid * spec.grid
    return Cost(starts * BASIN_BYTES_PER_START, starts * spec.steps / BASIN_START_STEPS_PER_SECOND,
                f"a {spec.grid} x {spec.grid} grid of {spec.steps} steps")


def sweep_cost(spec: Any) -> Cost:
    lrs = len(spec.lrs())
    return Cost(lrs * (spec.steps + 1) * SWEEP_BYTES_PER_ROW_STEP,
                spec.steps * SWEEP_SECONDS_PER_STEP * max(1.0, lrs / 64),
                f"{lrs} lrs x {spec.steps} steps")


def trajectory_cost(spec: Any) -> Cost:
    runs = max(len(spec.optimizers), 1)
    if spec.model == "linear":
        values = spec.samples * (spec.in_features + spec.out_features)
        per_epoch = spec.samples  # every sample is seen once an epoch, whatever the batch size
        steps = spec.epochs * max(per_epoch // max(spec.batch_size, 1), 1)
        return Cost(values * MODEL_BYTES_PER_VALUE + runs * steps * TRAJECTORY_BYTES_PER_STEP,
                    runs * spec.epochs * values / MODEL_VALUE_STEPS_PER_SECOND
                    + runs * steps * TRAJECTORY_SECONDS_PER_STEP,
                    f"{spec.samples} samples x {spec.in_features} features, {runs} run(s) of "
                    f"{spec.epochs} epochs")
    return Cost(runs * (spec.steps + 1) * TRAJECTORY_BYTES_PER_STEP,
                runs * spec.steps * TRAJECTORY_SECONDS_PER_STEP,
                f"{runs} run(s) of {spec.steps} steps")


def available_memory() -> float:
    """Bytes of memory free for a new allocation: MemAvailable on Linux, else all of it."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_budget(kind: str, cost: Cost, note: Callable[[str], None],
                 memory: float | None = None) -> None:
    """Refuse what cannot fit in ``memory`` (default: what is free now); note an estimate
    when it will take more than a minute."""
    free = available_memory() if memory is None else memory
    if cost.bytes > free:
        raise BadValueError(f"{kind}: {cost.what} needs about {_size(cost.bytes)} of memory and "
                            f"{_size(free)} is free; make it smaller")
    if cost.seconds > ETA_NOTE_SECONDS:
        note(f"optviz: note: {kind}: {cost.what} will take about {_duration(cost.seconds)} "
             f"(a rough estimate)")
