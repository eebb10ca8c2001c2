"""Scheduler plugins on PYTHONPATH, for the tests: a class, a factory that declares which
arguments come from the run, a ReduceLROnPlateau subclass and one that is not a scheduler."""

from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau


class HalveEvery(LRScheduler):
    """Halve the LR every ``every`` steps: lr_t = lr * 0.5 ** (t // every)."""

    def __init__(self, optimizer, every=4, last_epoch=-1):
        self.every = every
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * 0.5 ** (self.last_epoch // self.every) for base in self.base_lrs]


def linear_to_zero(optimizer, total_steps):
    """Linear decay from the LR to 0 over total_steps: lr_t = lr * (1 - t / total_steps)."""
    return LambdaLR(optimizer, lambda t: max(0.0, 1 - t / total_steps))


linear_to_zero.optviz_quirks = {"derived": {"total_steps": "steps"}}


class Patient(ReduceLROnPlateau):
    """ReduceLROnPlateau under another name: optviz sees that it steps on a metric."""


def bad_quirks(optimizer):
    """Declares a quirk that does not exist."""


bad_quirks.optviz_quirks = {"wants_coffee": True}
