"""A small, safe arithmetic evaluator for formulas such as ``0.95**epoch`` or
``min(1, (epoch+1)/5)``: LambdaLR and MultiplicativeLR factors, and plateau metrics in ``step``.

The text is parsed with :mod:`ast` and checked against a whitelist before anything runs; the
checked tree is then turned into plain Python closures. Nothing is ever handed to ``eval``, so a
refused formula has done nothing at all.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from optviz.errors import BadValueError

MAX_LENGTH = 500  # longer texts are almost surely not a learning-rate formula

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
    ast.Not: lambda v: float(not v),
}
_COMPARE: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}

FUNCTIONS: dict[str, Callable[..., float]] = {
    "min": min, "max": max, "abs": abs, "round": round,
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log2": math.log2,
    "log10": math.log10, "log1p": math.log1p, "expm1": math.expm1, "pow": math.pow,
    "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "asin": math.asin, "acos": math.acos, "atan": math.atan, "atan2": math.atan2,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "floor": math.floor, "ceil": math.ceil, "trunc": math.trunc, "fabs": math.fabs,
    "fmod": math.fmod, "hypot": math.hypot, "copysign": math.copysign,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}

_Node = Callable[[dict[str, float]], float]


def _refuse(text: str, why: str) -> BadValueError:
    return BadValueError(
        f"formula {text!r}: {why}; a formula may use numbers, + - * / // % **, comparisons, "
        f"'a if cond else b', and/or/not, min, max, abs, math functions (sqrt, exp, log, cos, ...) "
        f"and pi, e"
    )


@dataclass(frozen=True)
class Formula:
    """A checked formula in one or more variables, callable like the lambda it replaces."""

    text: str
    variables: tuple[str, ...]
    _run: _Node = field(repr=False, compare=False)

    def __call__(self, *values: float) -> float:
        env = dict(zip(self.variables, (float(v) for v in values), strict=True))
        try:
            out = self._run(env)
        except ZeroDivisionError:
            raise self._error(env, "division by zero") from None
        except OverflowError:
            raise self._error(env, "the result is too large") from None
        except (ValueError, TypeError) as exc:
            raise self._error(env, str(exc)) from None
        return float(out)

    def _error(self, env: dict[str, float], why: str) -> BadValueError:
        at = ", ".join(f"{k}={v:g}" for k, v in env.items())
        return BadValueError(f"formula {self.text!r} at {at}: {why}")

    def __str__(self) -> str:
        return self.text


def compile_formula(text: str, variables: Sequence[str] = ("epoch",)) -> Formula:
    """Check ``text`` against the whitelist and return it as a callable; BadValueError (and
    nothing evaluated) for anything else."""
    if not isinstance(text, str):
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = repr(text)  # a bare number is a constant factor
        else:
            raise BadValueError(f"formula must be text, got {text!r}")
    source = text.strip()
    if not source:
        raise BadValueError("formula is empty")
    if len(source) > MAX_LENGTH:
        raise BadValueError(f"formula is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise BadValueError(f"formula {source!r} is not an expression: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise BadValueError(f"formula {source!r} cannot be read") from None
    names = tuple(variables)
    try:
        run = _compile(tree.body, source, set(names))
    except RecursionError:
        raise BadValueError(f"formula {source!r} is nested too deeply") from None
    return Formula(source, names, run)


def _compile(node: ast.AST, text: str, variables: set[str]) -> _Node:
    """One whitelisted node -> a closure over its compiled children."""
    compiler = _COMPILERS.get(type(node))
    if compiler is not None:
        return compiler(node, text, variables)
    if isinstance(node, ast.Attribute):
        hint = f"; write {node.attr}(...)" if node.attr in FUNCTIONS else ""
        raise _refuse(text, f"attribute access ('.{node.attr}') is not allowed{hint}")
    if isinstance(node, ast.Lambda):
        raise _refuse(text, "lambda is not allowed: write the body alone, in terms of the variable")
    raise _refuse(text, f"{type(node).__name__} is not allowed")


def _constant(node: ast.Constant, text: str, variables: set[str]) -> _Node:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(text, f"{value!r} is not a number")
    # Floats everywhere, so that 10**10**10 overflows at once instead of building a huge int.
    number = float(value)
    return lambda env: number


def _name(node: ast.Name, text: str, variables: set[str]) -> _Node:
    name = node.id
    if name in variables:
        return lambda env: env[name]
    if name in CONSTANTS:
        const = CONSTANTS[name]
        return lambda env: const
    known = ", ".join(sorted(variables)) or "none"
    raise _refuse(text, f"unknown name {name!r} (variables here: {known})")


def _binary(node: ast.BinOp, text: str, variables: set[str]) -> _Node:
    op = _BINARY.get(type(node.op))
    if op is None:
        raise _refuse(text, f"operator {type(node.op).__name__} is not allowed")
    left, right = _compile(node.left, text, variables), _compile(node.right, text, variables)
    return lambda env: op(left(env), right(env))


def _unary(node: ast.UnaryOp, text: str, variables: set[str]) -> _Node:
    uop = _UNARY.get(type(node.op))
    if uop is None:
        raise _refuse(text, f"operator {type(node.op).__name__} is not allowed")
    operand = _compile(node.operand, text, variables)
    return lambda env: uop(operand(env))


def _boolean(node: ast.BoolOp, text: str, variables: set[str]) -> _Node:
    """``and``/``or`` as Python evaluates them: the first false (true) part, else the last."""
    parts = [_compile(v, text, variables) for v in node.values]
    stop_when = not isinstance(node.op, ast.And)  # and: stop at a false part; or: at a true one

    def evaluate(env: dict[str, float]) -> float:
        out = 0.0
        for part in parts:
            out = part(env)
            if bool(out) == stop_when:
                return out
        return out

    return evaluate


def _compare(node: ast.Compare, text: str, variables: set[str]) -> _Node:
    ops = []
    for op_node in node.ops:
        cop = _COMPARE.get(type(op_node))
        if cop is None:
            raise _refuse(text, f"comparison {type(op_node).__name__} is not allowed")
        ops.append(cop)
    first = _compile(node.left, text, variables)
    rest = [_compile(c, text, variables) for c in node.comparators]

    def compare(env: dict[str, float]) -> float:
        left = first(env)
        for cop, comp in zip(ops, rest, strict=True):
            right = comp(env)
            if not cop(left, right):
                return 0.0
            left = right
        return 1.0

    return compare


def _if_else(node: ast.IfExp, text: str, variables: set[str]) -> _Node:
    test = _compile(node.test, text, variables)
    yes = _compile(node.body, text, variables)
    no = _compile(node.orelse, text, variables)
    return lambda env: yes(env) if test(env) else no(env)


def _compile_call(node: ast.Call, text: str, variables: set[str]) -> _Node:
    if not isinstance(node.func, ast.Name):
        if isinstance(node.func, ast.Attribute):
            return _compile(node.func, text, variables)  # refused with the attribute message
        raise _refuse(text, "only calls of the listed functions by name are allowed")
    name = node.func.id
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise _refuse(text, f"function {name!r} is not allowed")
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise _refuse(text, f"{name}() takes plain positional arguments only")
    if not node.args:
        raise _refuse(text, f"{name}() needs an argument")
    args = [_compile(a, text, variables) for a in node.args]
    return lambda env: fn(*(a(env) for a in args))



_COMPILERS: dict[type, Callable[[Any, str, set[str]], _Node]] = {
    ast.Constant: _constant, ast.Name: _name, ast.BinOp: _binary, ast.UnaryOp: _unary,
    ast.BoolOp: _boolean, ast.Compare: _compare, ast.IfExp: _if_else, ast.Call: _compile_call,
}
