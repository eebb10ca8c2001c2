"""Names to factories: the optimizer, scheduler and test-function registries.

Each registry is built here, once, by explicit functions: the built-in records first, then the
plugin hooks (dotted paths, entry points, pytorch_optimizer). Nothing is added by importing a
module for its side effects; a test that needs a registry of its own calls the same builders.
Importing this package imports neither torch nor matplotlib (records name their factories by
dotted path).
"""

from __future__ import annotations

from optviz.registry.core import Registry
from optviz.registry.functions import FunctionRecord, register_functions
from optviz.registry.optimizers import OptimizerRecord, register_optimizers
from optviz.registry.plugins import attach_optimizer_plugins, attach_scheduler_plugins
from optviz.registry.schedulers import SchedulerRecord, register_schedulers


def build_optimizers() -> Registry[OptimizerRecord]:
    """A fresh optimizer registry: the built-ins, then the plugin hooks."""
    return attach_optimizer_plugins(register_optimizers(Registry("optimizer")))


def build_schedulers() -> Registry[SchedulerRecord]:
    """A fresh scheduler registry: the built-ins, then the plugin hooks."""
    return attach_scheduler_plugins(register_schedulers(Registry("scheduler")))


def build_functions() -> Registry[FunctionRecord]:
    """A fresh test-function registry."""
    return register_functions(Registry("function"))


OPTIMIZERS = build_optimizers()
SCHEDULERS = build_schedulers()
FUNCTIONS = build_functions()

__all__ = ["FUNCTIONS", "OPTIMIZERS", "SCHEDULERS", "build_functions", "build_optimizers",
           "build_schedulers"]
