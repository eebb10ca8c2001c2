"""The safe formula evaluator: what it computes, what it refuses, and that a refused formula
has run nothing at all."""

from __future__ import annotations

import ast
import builtins
import math
from pathlib import Path

import pytest

from optviz.errors import BadValueError
from optviz.formula import compile_formula


@pytest.mark.parametrize(("text", "epoch", "expected"), [
    ("0.95**epoch", 3, 0.95**3),
    ("min(1, (epoch+1)/5)", 0, 0.2),
    ("min(1, (epoch+1)/5)", 9, 1.0),
    ("1 if epoch < 5 else 0.1", 4, 1.0),
    ("1 if epoch < 5 else 0.1", 5, 0.1),
    ("0.5 * (1 + cos(pi * epoch / 10))", 5, 0.5),
    ("exp(-epoch) + sqrt(4) - abs(-1) + max(epoch, 2)", 0, 1 + 2 - 1 + 2),
    ("epoch // 3 + epoch % 3", 7, 2 + 1),
    ("-epoch + +2", 1, 1.0),
    ("e ** 0 + log(e)", 0, 2.0),
    ("(epoch > 2) + (epoch == 3) + (1 < epoch <= 3)", 3, 3.0),
    ("epoch >= 2 and 0.5 or 1", 1, 1.0),
    ("not epoch", 0, 1.0),
    ("0.9", 100, 0.9),
])
def test_computes(text, epoch, expected):
    assert compile_formula(text)(epoch) == pytest.approx(expected, rel=1e-15)


def test_a_number_is_a_constant_factor():
    assert compile_formula(0.5)(7) == 0.5


def test_other_variables():
    f = compile_formula("1/(1+step) + epoch", ("step", "epoch"))
    assert f(3, 1) == pytest.approx(1.25)


@pytest.mark.parametrize(("text", "why"), [
    ("__import__('os')", "function '__import__' is not allowed"),
    ("__import__('os').system('echo hi')", "attribute access"),
    ("math.cos(epoch)", "write cos(...)"),
    ("epoch.real", "attribute access"),
    ("(lambda: 1)()", "only calls of the listed functions"),
    ("lambda epoch: 0.95**epoch", "lambda is not allowed"),
    ("open('x', 'w')", "function 'open' is not allowed"),
    ("eval('1')", "function 'eval' is not allowed"),
    ("x + 1", "unknown name 'x'"),
    ("'a' * 3", "is not a number"),
    ("[1, 2][0]", "is not allowed"),
    ("{}", "is not allowed"),
    ("[i for i in range(3)]", "is not allowed"),
    ("min(*[1, 2])", "plain positional arguments"),
    ("round(epoch, ndigits=1)", "plain positional arguments"),
    ("epoch @ epoch", "operator MatMult is not allowed"),
    ("epoch << 2", "operator LShift is not allowed"),
    ("epoch is 1", "comparison Is is not allowed"),
    ("(y := 2)", "is not allowed"),
    ("True + 1", "is not a number"),
    ("epoch = 1", "not an expression"),
    ("import os", "not an expression"),
    ("", "empty"),
    ("1 +" + " 1 +" * 300 + " 1", "longer than"),
])
def test_refuses_with_a_clear_message(text, why):
    with pytest.raises(BadValueError, match="formula") as info:
        compile_formula(text)
    assert why in str(info.value)


def test_refused_formulas_run_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # If anything were evaluated, these would create the marker file or call the trap.
    marker = tmp_path / "ran"
    calls: list[str] = []
    real_import = builtins.__import__

    def trap_import(name, *args, **kwargs):
        if name == "os":
            calls.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", trap_import)
    attacks = [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        f"(lambda: __import__('os').system('touch {marker}'))()",
        f"[__import__('os').system('touch {marker}') for _ in range(1)]",
        "exec('import os')",
    ]
    for text in attacks:
        with pytest.raises(BadValueError):
            compile_formula(text)
    assert not marker.exists()
    assert calls == []


def test_never_uses_eval_or_exec(monkeypatch: pytest.MonkeyPatch):
    real_compile = builtins.compile

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called")

    def parse_only(source, filename, mode, flags=0, *args, **kwargs):
        # ast.parse goes through compile(); only its parse-to-tree form is allowed.
        assert flags & ast.PyCF_ONLY_AST, "compile() to code"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", parse_only)
    f = compile_formula("min(1, (epoch+1)/5) * 0.95**epoch")
    result = f(1)
    monkeypatch.undo()
    assert result == pytest.approx(0.4 * 0.95)


@pytest.mark.parametrize(("text", "why"), [
    ("1/epoch", "division by zero"),
    ("10.0**10**10", "too large"),
    ("log(epoch)", "math domain error"),
    ("sqrt(-1 - epoch)", "math domain error"),
])
def test_runtime_errors_name_the_value(text, why):
    f = compile_formula(text)
    with pytest.raises(BadValueError) as info:
        f(0)
    assert why in str(info.value)
    assert "epoch=0" in str(info.value)


def test_results_are_floats():
    assert isinstance(compile_formula("floor(epoch / 2)")(3), float)
    assert math.isinf(compile_formula("inf")(0))
