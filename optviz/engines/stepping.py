"""The one stepping protocol every engine uses: a gradient closure that honours the record's
quirks (create_graph for second-order methods, sparse gradients), a step that honours the
closure quirk (LBFGS evaluates the closure itself), and torch's failures inside ``step()``
turned into one error naming the optimizer and the step."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch

from optviz.errors import OptvizError
from optviz.plan.optimizers import OptimizerPlan
from optviz.registry.optimizers import OptimizerRecord


def gradient_closure(opt: Any, params: Sequence[torch.Tensor], loss: Callable[[], torch.Tensor],
                     record: OptimizerRecord) -> Callable[[], torch.Tensor]:
    """``closure()``: zero the gradients, evaluate ``loss()``, back-propagate it (with the
    graph where the optimizer needs second derivatives), make the gradients sparse where it
    needs them so; returns the loss."""

    def closure() -> torch.Tensor:
        zero_grad(opt, record)
        value = loss()
        back_propagate(params, value, record)
        return value

    return closure


def zero_grad(opt: Any, record: OptimizerRecord) -> None:
    """``opt.zero_grad()``, or where that only sets every gradient to None
    (``record.plain_zero_grad``) the same by hand."""
    if not record.plain_zero_grad:
        opt.zero_grad()
        return
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = None


def back_propagate(params: Sequence[torch.Tensor], value: torch.Tensor,
                   record: OptimizerRecord) -> None:
    """``value.backward()`` as the optimizer needs it: with the graph for second derivatives,
    the gradients made sparse for a sparse optimizer."""
    if record.create_graph:
        with warnings.catch_warnings():
            # create_graph's reference-cycle warning: zero_grad(set_to_none) breaks it.
            warnings.filterwarnings("ignore", message="Using backward.. with create_graph")
            value.backward(create_graph=True)
    else:
        value.backward()
    if record.sparse_grad:
        for p in params:
            p.grad = p.grad.to_sparse()


def take_step(plan: OptimizerPlan, k: int, opt: Any,
              closure: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Step ``k``, honouring the record's closure quirk (LBFGS evaluates the closure itself,
    the others step on the gradients one call of it leaves); returns the closure's loss."""
    if plan.record.needs_closure:
        return checked_step(plan, k, opt, closure)
    loss = closure()
    checked_step(plan, k, opt)
    return loss


def checked_step(plan: OptimizerPlan, k: int, opt: Any,
                 closure: Callable[[], torch.Tensor] | None = None) -> Any:
    """``opt.step(closure)`` for step ``k``; what the optimizer raises (torch checks some
    settings only at the first step) becomes one BadValueError naming it, from the cause.
    optviz's own errors and KeyboardInterrupt pass through."""
    try:
        return opt.step() if closure is None else opt.step(closure)
    except OptvizError:
        raise
    except Exception as exc:
        raise plan.step_failed(k, exc) from exc
