"""Warmup schedules that give the same numbers as Hugging Face transformers' functions.

Each is written from the formula of ``transformers.optimization`` (same names, same arguments,
same defaults) and returns a plain ``torch.optim.lr_scheduler.LambdaLR``, so transformers is not
needed. The factor functions are module-level (through ``functools.partial``) so that a
scheduler's ``state_dict`` can be saved, as with transformers.
"""

from __future__ import annotations

import math
from functools import partial

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, ReduceLROnPlateau

WSD_SHAPES = ("linear", "cosine", "1-sqrt")


def _warmup(current_step: int, num_warmup_steps: int) -> float:
    return float(current_step) / float(max(1, num_warmup_steps))


def constant_factor(current_step: int | None = None) -> float:
    return 1.0


def constant_with_warmup_factor(current_step: int, *, num_warmup_steps: int) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    return 1.0


def linear_with_warmup_factor(current_step: int, *, num_warmup_steps: int,
                              num_training_steps: int) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    return max(0.0, float(num_training_steps - current_step)
               / float(max(1, num_training_steps - num_warmup_steps)))


def cosine_with_warmup_factor(current_step: int, *, num_warmup_steps: int,
                              num_training_steps: int, num_cycles: float,
                              min_lr_rate: float = 0.0) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    progress = float(current_step - num_warmup_steps) / float(
        max(1, num_training_steps - num_warmup_steps))
    factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
    return max(0.0, factor * (1.0 - min_lr_rate) + min_lr_rate)


def cosine_hard_restarts_factor(current_step: int, *, num_warmup_steps: int,
                                num_training_steps: int, num_cycles: int) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    progress = float(current_step - num_warmup_steps) / float(
        max(1, num_training_steps - num_warmup_steps))
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(num_cycles) * progress) % 1.0))))


def polynomial_decay_factor(current_step: int, *, num_warmup_steps: int, num_training_steps: int,
                            lr_end: float, power: float, lr_init: float) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    if current_step > num_training_steps:
        return lr_end / lr_init  # LambdaLR multiplies by lr_init again
    lr_range = lr_init - lr_end
    decay_steps = num_training_steps - num_warmup_steps
    pct_remaining = 1 - (current_step - num_warmup_steps) / decay_steps
    return (lr_range * pct_remaining**power + lr_end) / lr_init


def cosine_min_lr_rate_factor(current_step: int, *, num_warmup_steps: int,
                              num_training_steps: int, num_cycles: float, min_lr_rate: float,
                              warmup_lr_rate: float | None) -> float:
    # transformers' "_lr_rate" variant: the warmup starts at 1/num_warmup_steps (or at
    # warmup_lr_rate) and reaches 1 on the warmup's last step; the decay is one step ahead.
    step, warmup, total = float(current_step), float(num_warmup_steps), float(num_training_steps)
    if step < warmup:
        if warmup_lr_rate is None:
            return (step + 1.0) / max(1.0, warmup)
        rate = float(warmup_lr_rate)
        return rate + (1.0 - rate) * step / max(1.0, warmup - 1.0)
    progress = (step - warmup + 1.0) / max(1.0, total - warmup)
    factor = 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress))
    return max(0.0, factor * (1.0 - min_lr_rate) + min_lr_rate)


def inverse_sqrt_factor(current_step: int, *, num_warmup_steps: int, timescale: int) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    shift = timescale - num_warmup_steps
    return 1.0 / math.sqrt((current_step + shift) / timescale)


def wsd_factor(current_step: int, *, num_warmup_steps: int, num_stable_steps: int,
               num_decay_steps: int, warmup_type: str, decay_type: str, min_lr_ratio: float,
               num_cycles: float) -> float:
    if current_step < num_warmup_steps:
        progress = _warmup(current_step, num_warmup_steps)
        if warmup_type == "linear":
            factor = progress
        elif warmup_type == "cosine":
            factor = 0.5 * (1.0 - math.cos(math.pi * progress))
        else:  # "1-sqrt"
            factor = 1.0 - math.sqrt(1.0 - progress)
        return max(0.0, factor * (1.0 - min_lr_ratio) + min_lr_ratio)
    if current_step < num_warmup_steps + num_stable_steps:
        return 1.0
    if current_step < num_warmup_steps + num_stable_steps + num_decay_steps:
        progress = float(current_step - num_warmup_steps - num_stable_steps) / float(
            max(1, num_decay_steps))
        if decay_type == "linear":
            factor = 1.0 - progress
        elif decay_type == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
        else:  # "1-sqrt"
            factor = 1.0 - math.sqrt(progress)
        return max(0.0, factor * (1.0 - min_lr_ratio) + min_lr_ratio)
    return min_lr_ratio


def get_constant_schedule(optimizer: Optimizer, last_epoch: int = -1) -> LambdaLR:
    """The optimizer's lr, unchanged."""
    return LambdaLR(optimizer, constant_factor, last_epoch=last_epoch)


def get_reduce_on_plateau_schedule(
    optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
    threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
    min_lr: float | list[float] = 0, eps: float = 1e-8,
) -> ReduceLROnPlateau:
    """torch's ReduceLROnPlateau with torch's defaults (transformers passes ``**kwargs`` on;
    the keywords are written out so that they can be listed and checked)."""
    return ReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience,
                             threshold=threshold, threshold_mode=threshold_mode,
                             cooldown=cooldown, min_lr=min_lr, eps=eps)


def get_constant_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int,
                                      last_epoch: int = -1) -> LambdaLR:
    """Linear warmup from 0 to the optimizer's lr, then constant."""
    fn = partial(constant_with_warmup_factor, num_warmup_steps=num_warmup_steps)
    return LambdaLR(optimizer, fn, last_epoch=last_epoch)


def get_linear_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int,
                                    num_training_steps: int, last_epoch: int = -1) -> LambdaLR:
    """Linear warmup from 0, then linear decay to 0 at ``num_training_steps``."""
    fn = partial(linear_with_warmup_factor, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps)
    return LambdaLR(optimizer, fn, last_epoch)


def get_cosine_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int,
                                    num_training_steps: int, num_cycles: float = 0.5,
                                    last_epoch: int = -1) -> LambdaLR:
    """Linear warmup from 0, then ``num_cycles`` cosine waves (half a wave: down to 0)."""
    fn = partial(cosine_with_warmup_factor, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1,
    last_epoch: int = -1,
) -> LambdaLR:
    """Linear warmup from 0, then ``num_cycles`` cosine decays to 0, each restarting at the top."""
    fn = partial(cosine_hard_restarts_factor, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch)


def get_polynomial_decay_schedule_with_warmup(
    optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int, lr_end: float = 1e-7,
    power: float = 1.0, last_epoch: int = -1,
) -> LambdaLR:
    """Linear warmup from 0, then polynomial decay to ``lr_end`` at ``num_training_steps``."""
    lr_init = optimizer.defaults["lr"]
    if not (lr_init > lr_end):
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    fn = partial(polynomial_decay_factor, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, lr_end=lr_end, power=power,
                 lr_init=lr_init)
    return LambdaLR(optimizer, fn, last_epoch)


def get_inverse_sqrt_schedule(optimizer: Optimizer, num_warmup_steps: int,
                              timescale: int | None = None, last_epoch: int = -1) -> LambdaLR:
    """Linear warmup from 0, then lr / sqrt((step + timescale - warmup) / timescale)."""
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    fn = partial(inverse_sqrt_factor, num_warmup_steps=num_warmup_steps, timescale=timescale)
    return LambdaLR(optimizer, fn, last_epoch=last_epoch)


def get_cosine_with_min_lr_schedule_with_warmup(
    optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
    num_cycles: float = 0.5, last_epoch: int = -1, min_lr: float | None = None,
    min_lr_rate: float | None = None,
) -> LambdaLR:
    """Cosine with warmup that ends at ``min_lr`` (or ``min_lr_rate`` times the lr), not 0."""
    fn = partial(cosine_with_warmup_factor, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, num_cycles=num_cycles,
                 min_lr_rate=_min_lr_rate(optimizer, min_lr, min_lr_rate))
    return LambdaLR(optimizer, fn, last_epoch)


def _min_lr_rate(optimizer: Optimizer, min_lr: float | None,
                 min_lr_rate: float | None) -> float:
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    if min_lr is not None:
        return min_lr / optimizer.defaults["lr"]
    if min_lr_rate is None:
        raise ValueError("One of min_lr or min_lr_rate should be set")
    return min_lr_rate


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
    num_cycles: float = 0.5, last_epoch: int = -1, min_lr: float | None = None,
    min_lr_rate: float | None = None, warmup_lr_rate: float | None = None,
) -> LambdaLR:
    """Cosine with min lr whose warmup starts above 0 (at 1/num_warmup_steps, or
    ``warmup_lr_rate``) and whose decay runs one step ahead (transformers'
    ``cosine_warmup_with_min_lr``)."""
    fn = partial(cosine_min_lr_rate_factor, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, num_cycles=num_cycles,
                 min_lr_rate=_min_lr_rate(optimizer, min_lr, min_lr_rate),
                 warmup_lr_rate=warmup_lr_rate)
    return LambdaLR(optimizer, fn, last_epoch)


def get_wsd_schedule(
    optimizer: Optimizer, num_warmup_steps: int, num_decay_steps: int,
    num_training_steps: int | None = None, num_stable_steps: int | None = None,
    warmup_type: str = "linear", decay_type: str = "cosine", min_lr_ratio: float = 0,
    num_cycles: float = 0.5, last_epoch: int = -1,
) -> LambdaLR:
    """Warmup-stable-decay: warm up, hold the lr, then decay to ``min_lr_ratio`` times it."""
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    if warmup_type not in WSD_SHAPES:
        raise ValueError(f"Unknown warmup type: {warmup_type}, expected 'linear', 'cosine' "
                         f"or '1-sqrt'")
    if decay_type not in WSD_SHAPES:
        raise ValueError(f"Unknown decay type: {decay_type}, expected 'linear', 'cosine' "
                         f"or '1-sqrt'")
    if num_stable_steps is None:
        # transformers warns when both are given and then uses num_stable_steps, as here.
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
    fn = partial(wsd_factor, num_warmup_steps=num_warmup_steps, num_stable_steps=num_stable_steps,
                 num_decay_steps=num_decay_steps, warmup_type=warmup_type, decay_type=decay_type,
                 min_lr_ratio=min_lr_ratio, num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch)
