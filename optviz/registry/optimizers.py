"""The optimizer registry: every torch.optim class, the article's presets, and their quirks.

Quirks are data on the record (``needs_closure``, ``sparse_grad``, ``matrix_param``,
``elementwise``); the engine reads the flags and never asks for a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from optviz.registry.core import Record, Registry

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class OptimizerRecord(Record):
    """One optimizer name: its factory, defaults and the quirks the engine must honour."""

    needs_closure: bool = False  # step(closure) re-evaluates the loss (LBFGS)
    sparse_grad: bool = False  # gradients must be handed over as sparse tensors (SparseAdam)
    matrix_param: bool = False  # only 2-D parameters: a point is run as a 1 x D matrix (Muon)
    elementwise: bool = True  # the update of one coordinate depends on that coordinate alone
    create_graph: bool = False  # backward(create_graph=True): Hessian-vector products
    unsupported: str = ""  # why it cannot run on a point (e.g. it needs the model); refused
    plugin: str = ""  # where a record from outside optviz came from

    @property
    def quirks(self) -> list[str]:
        out = []
        if self.needs_closure:
            out.append("needs a closure: optviz passes one that re-evaluates the function")
        if self.sparse_grad:
            out.append("needs sparse gradients: optviz converts each gradient to a sparse tensor")
        if self.matrix_param:
            out.append("takes only 2-D parameters: optviz runs the point as a 1 x D matrix")
        if self.create_graph:
            out.append("needs second derivatives: optviz calls backward(create_graph=True)")
        if not self.elementwise:
            out.append("not element-wise: coordinates interact in the update")
        if self.unsupported:
            out.append(f"cannot run here: {self.unsupported}")
        return out

    @property
    def torch_own(self) -> bool:
        """One of torch.optim's own classes (not a plugin, not pytorch_optimizer's): what
        optviz knows of torch's step machinery holds for it and is not assumed of others."""
        return self.target.startswith(_T) and not self.plugin

    @property
    def idle_without_gradients(self) -> bool:
        """Whether a step with no gradient anywhere changes nothing (no parameter, no LR, no
        state a scheduler reads): true of torch.optim's own classes, which skip every
        parameter without a gradient; not assumed of anything else."""
        return self.torch_own

    @property
    def plain_zero_grad(self) -> bool:
        """Whether ``zero_grad()`` only sets every parameter's gradient to None: torch.optim's
        own classes (``set_to_none`` by default), whose call also passes torch's dynamo guard
        and profiler record, a tenth of a lone step on a 2-D point. The stepping helpers
        (``engines.stepping.zero_grad``) clear such gradients themselves; anything else's
        ``zero_grad`` is called."""
        return self.torch_own

    @property
    def external(self) -> bool:
        """Code from outside optviz and torch: a dotted path or an entry point (not optviz's
        own records, nor pytorch_optimizer's, whose classes are known optimizers)."""
        return self.plugin in ("path", "entry point")



_T = "torch.optim."

OPTIMIZER_RECORDS: tuple[OptimizerRecord, ...] = (
    OptimizerRecord("sgd", _T + "SGD", "Stochastic gradient descent, optional (Nesterov) momentum",
                    display="SGD"),
    OptimizerRecord("adam", _T + "Adam", "Adam: momentum plus per-coordinate RMS scaling",
                    display="Adam"),
    OptimizerRecord("adamw", _T + "AdamW", "Adam with decoupled weight decay", display="AdamW"),
    OptimizerRecord("adamax", _T + "Adamax", "Adam with an infinity-norm second moment",
                    display="Adamax"),
    OptimizerRecord("nadam", _T + "NAdam", "Adam with Nesterov momentum", display="NAdam"),
    OptimizerRecord("radam", _T + "RAdam", "Rectified Adam: variance-corrected warm start",
                    display="RAdam"),
    OptimizerRecord("rmsprop", _T + "RMSprop", "RMSProp: steps scaled by a running RMS of grads",
                    display="RMSprop"),
    OptimizerRecord("adagrad", _T + "Adagrad", "AdaGrad: steps scaled by accumulated squared grads",
                    display="Adagrad"),
    OptimizerRecord("adadelta", _T + "Adadelta", "AdaDelta: AdaGrad with unit-corrected steps",
                    display="Adadelta"),
    OptimizerRecord("asgd", _T + "ASGD", "Averaged SGD", display="ASGD"),
    OptimizerRecord("rprop", _T + "Rprop", "Resilient backprop: sign-based adaptive steps",
                    display="Rprop"),
    OptimizerRecord("lbfgs", _T + "LBFGS", "Limited-memory BFGS quasi-Newton method",
                    display="LBFGS", needs_closure=True, elementwise=False),
    OptimizerRecord("sparse_adam", _T + "SparseAdam", "Adam for sparse gradients (lazy updates)",
                    display="SparseAdam", sparse_grad=True),
    OptimizerRecord("adafactor", _T + "Adafactor", "Adafactor: factored second-moment estimates",
                    display="Adafactor", elementwise=False),
    OptimizerRecord("muon", _T + "Muon", "Muon: momentum orthogonalised by Newton-Schulz",
                    display="Muon", matrix_param=True, elementwise=False),
    OptimizerRecord("lion", "optviz.optim.Lion", "Lion: sign of interpolated momentum (2023)",
                    display="Lion"),
    # Presets of the hand-written-optimizer article (GD, MomentumGD, NesterovGD).
    OptimizerRecord("gd", _T + "SGD", "Plain gradient descent (SGD without momentum)",
                    display="GD", aliases=("GradientDescent",)),
    OptimizerRecord("momentum", _T + "SGD", "Gradient descent with momentum 0.9",
                    display="Momentum", aliases=("MomentumGD",), defaults={"momentum": 0.9}),
    OptimizerRecord("nesterov", _T + "SGD", "Gradient descent with Nesterov momentum 0.9",
                    display="Nesterov", aliases=("NesterovGD", "nag"),
                    defaults={"momentum": 0.9, "nesterov": True}),
)


def register_optimizers(registry: Registry[OptimizerRecord]) -> Registry[OptimizerRecord]:
    """Add every built-in optimizer record (torch.optim's classes, presets, Lion, Muon...) to
    ``registry``."""
    for record in OPTIMIZER_RECORDS:
        registry.add(record)
    return registry
