"""Registry, settings and function records: names resolve, settings parse, formulas hold."""

from __future__ import annotations

import inspect

import pytest
import torch

from optviz.engines.single import surface
from optviz.errors import BadValueError, UnknownNameError, UnknownSettingError
from optviz.plan.optimizers import boolean_settings, plan_optimizer
from optviz.registry import FUNCTIONS, OPTIMIZERS
from optviz.registry.signatures import signature_params
from optviz.spec.figures import OptimizerSpec, TrajectorySpec
from optviz.spec.syntax import parse_cli_tokens, parse_inline, parse_value


def _plan(token, **kw):
    return plan_optimizer(OptimizerSpec.model_validate(token), **kw)


def _torch_optimizer_classes() -> dict[str, type]:
    """Every public Optimizer subclass torch.optim exports, found by walking the module."""
    return {
        name: cls
        for name, cls in inspect.getmembers(torch.optim, inspect.isclass)
        if issubclass(cls, torch.optim.Optimizer)
        and cls is not torch.optim.Optimizer
        and not name.startswith("_")
    }


TORCH_CLASSES = _torch_optimizer_classes()


# ---------------------------------------------------------------- optimizer names


def test_torch_walk_finds_the_classes_the_issue_names():
    # Guards the walk itself: if it found nothing, the drift test below would pass vacuously.
    named = {"SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad",
             "Adadelta", "ASGD", "Rprop", "LBFGS", "SparseAdam", "Adafactor", "Muon"}
    assert named <= set(TORCH_CLASSES)


@pytest.mark.parametrize("class_name", sorted(TORCH_CLASSES))
def test_every_torch_optimizer_is_registered(class_name):
    cls = TORCH_CLASSES[class_name]
    by_class = OPTIMIZERS.resolve(class_name)
    assert by_class.load() is cls
    assert OPTIMIZERS.resolve(f"torch.optim.{class_name}").load() is cls
    # The canonical record of a class is the plain one, not a preset sharing it (gd -> SGD).
    assert by_class.defaults == {}


def test_every_record_loads_an_optimizer_class():
    for record in OPTIMIZERS:
        cls = record.load()
        assert issubclass(cls, torch.optim.Optimizer), record.name
        assert cls.__name__ == record.class_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("adamw", "adamw"), ("AdamW", "adamw"), ("ADAMW", "adamw"), ("aDaMw", "adamw"),
        ("torch.optim.AdamW", "adamw"), ("torch.optim.SparseAdam", "sparse_adam"),
        ("sparse_adam", "sparse_adam"), ("sparse-adam", "sparse_adam"),
        ("SparseAdam", "sparse_adam"),
        ("Sparse-Adam", "sparse_adam"), ("rms_prop", "rmsprop"), ("RMSprop", "rmsprop"),
        ("SGD", "sgd"), ("torch.optim.SGD", "sgd"), ("l-bfgs", "lbfgs"), ("N_Adam", "nadam"),
        ("gd", "gd"), ("MomentumGD", "momentum"), ("NesterovGD", "nesterov"),
        ("  adam ", "adam"),
    ],
)
def test_optimizer_name_resolution(name, expected):
    assert OPTIMIZERS.resolve(name).name == expected
    assert name in OPTIMIZERS


@pytest.mark.parametrize(
    ("preset", "momentum", "nesterov"), [("gd", 0, False), ("momentum", 0.9, False),
                                         ("nesterov", 0.9, True)]
)
def test_article_presets_are_sgd_with_their_defaults(preset, momentum, nesterov):
    plan = _plan(preset, lr=0.01)
    assert plan.factory is torch.optim.SGD
    opt = plan.factory([torch.zeros(2, requires_grad=True)], **plan.kwargs)
    assert opt.defaults["lr"] == 0.01
    assert opt.defaults["momentum"] == momentum
    assert opt.defaults["nesterov"] is nesterov
    assert opt.defaults["dampening"] == 0


def test_preset_default_yields_to_explicit_settings():
    # Precedence, lowest first: preset, --kebab for the call, --lr, inline NAME:key=value.
    plan = _plan("momentum:lr=0.02", lr=0.5, common={"momentum": 0.5})
    assert plan.kwargs["momentum"] == 0.5
    assert plan.kwargs["lr"] == 0.02
    assert _plan("sgd", lr=0.3).kwargs == {"lr": 0.3}


@pytest.mark.parametrize(("typo", "meant"), [("adamm", "adam"), ("sdg", "sgd"), ("lbgfs", "lbfgs")])
def test_unknown_optimizer_suggests(typo, meant):
    with pytest.raises(UnknownNameError, match=f"did you mean '{meant}'"):
        OPTIMIZERS.resolve(typo)


def test_unknown_function_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'rosenbrock'"):
        FUNCTIONS.resolve("rosenbrok")


def test_hopeless_name_has_no_suggestion():
    with pytest.raises(UnknownNameError) as info:
        OPTIMIZERS.resolve("zzzzqqq")
    assert "did you mean" not in str(info.value)


def test_wildcard_filter():
    assert [r.name for r in OPTIMIZERS.filter("adam*")] == ["adam", "adamax", "adamw"]
    assert [r.name for r in OPTIMIZERS.filter("*adam")] == ["adam", "nadam", "radam",
                                                            "sparse_adam"]
    assert [r.name for r in FUNCTIONS.filter("ros*")] == ["rosenbrock"]
    # No wildcard: a substring match.
    assert [r.name for r in FUNCTIONS.filter("camel")] == ["six_hump_camel"]
    assert [r.name for r in OPTIMIZERS.filter(None)] == sorted(OPTIMIZERS.names())
    assert OPTIMIZERS.filter("nothing*like*this") == []


# ---------------------------------------------------------------- settings


def test_inline_settings():
    assert parse_inline("sgd:lr=0.01,momentum=0.9") == ("sgd", {"lr": 0.01, "momentum": 0.9})
    assert parse_inline("adam:lr=0.1,betas=[0.9,0.99]") == (
        "adam", {"lr": 0.1, "betas": [0.9, 0.99]})
    assert parse_inline("adam") == ("adam", {})


def test_inline_settings_reach_the_optimizer():
    sgd = _plan("sgd:lr=0.01,momentum=0.9")
    assert sgd.kwargs == {"lr": 0.01, "momentum": 0.9}
    adam = _plan("adam:lr=0.1,betas=[0.9,0.99]")
    # torch's betas default is a tuple, so the YAML list becomes one.
    assert adam.kwargs == {"lr": 0.1, "betas": (0.9, 0.99)}
    opt = adam.factory([torch.zeros(2, requires_grad=True)], **adam.kwargs)
    assert opt.defaults["betas"] == (0.9, 0.99)
    assert adam.label == "Adam (lr=0.1, betas=(0.9, 0.99))"


def test_lightning_class_path_form():
    spec = OptimizerSpec.model_validate(
        {"class_path": "torch.optim.AdamW", "init_args": {"lr": 0.05, "weight_decay": 0.1}})
    plan = plan_optimizer(spec)
    assert plan.factory is torch.optim.AdamW
    assert plan.kwargs == {"lr": 0.05, "weight_decay": 0.1}


def test_kebab_settings():
    names, settings = parse_cli_tokens(
        ["sgd", "adam", "--betas", "0.9,0.99", "--nesterov", "--weight-decay", "1e-3",
         "--eps=1e-8", "--no-amsgrad"],
        boolean_settings(),
    )
    assert names == ["sgd", "adam"]
    assert settings == {"betas": [0.9, 0.99], "nesterov": True, "weight_decay": 0.001,
                        "eps": 1e-8, "amsgrad": False}
    assert isinstance(settings["weight_decay"], float)


def test_kebab_option_without_value_is_refused():
    with pytest.raises(BadValueError, match="--momentum needs a value"):
        parse_cli_tokens(["sgd", "--momentum"], boolean_settings())


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-3", 0.001), ("1E-3", 0.001), ("3e2", 300.0), ("0.9", 0.9), ("10", 10), ("true", True),
     ("false", False), ("0.9,0.99", [0.9, 0.99]), ("[0.9, 0.99]", [0.9, 0.99]),
     ("[1e-3,2e-3]", [0.001, 0.002]), ("null", None), ("ab", "ab")],
)
def test_values_are_yaml_scalars_with_exponent_floats(text, value):
    parsed = parse_value(text)
    assert parsed == value
    # YAML 1.1 reads "1e-3" as a string; it must come back a float, and 10 an int.
    assert type(parsed) is type(value)


def test_boolean_keywords_are_bare_flags():
    assert {"nesterov", "amsgrad", "maximize"} <= boolean_settings()
    assert "lr" not in boolean_settings()


def test_unknown_inline_setting_lists_valid_ones():
    with pytest.raises(UnknownSettingError) as info:
        _plan("sgd:momentm=0.9")
    message = str(info.value)
    assert "did you mean 'momentum'" in message
    for key in signature_params(torch.optim.SGD):
        assert key in message


def test_unknown_kebab_setting_lists_valid_ones():
    with pytest.raises(UnknownSettingError) as info:
        _plan("sgd", common={"momentm": 0.9})
    message = str(info.value)
    assert "momentm" in message
    for key in signature_params(torch.optim.SGD):
        assert key in message


def test_setting_of_another_optimizer_is_refused():
    # --nesterov is an SGD keyword; Adam has no such setting.
    with pytest.raises(UnknownSettingError, match="nesterov"):
        _plan("adam", common={"nesterov": True})


def test_boolean_setting_needs_a_boolean():
    with pytest.raises(BadValueError, match="nesterov"):
        _plan("sgd:nesterov=3")


# ---------------------------------------------------------------- functions


def test_default_problem_is_the_articles():
    spec = TrajectorySpec(optimizers=["adam"])
    assert (spec.function, spec.steps, spec.start) == ("quadratic", 100, None)
    quadratic = FUNCTIONS.resolve(spec.function)
    assert quadratic.start == (4.0, 3.0)
    fn = quadratic.load()
    assert float(fn(torch.tensor([4.0, 3.0]))) == 4.0**2 + 10 * 3.0**2
    parabola = FUNCTIONS.resolve("parabola")
    assert parabola.dim == 1
    assert float(parabola.load()(torch.tensor([1.5]))) == 4 * 1.5**2


@pytest.mark.parametrize(
    ("name", "expected"),
    [("six-hump-camel", "six_hump_camel"), ("Six_Hump_Camel", "six_hump_camel"),
     ("sixhumpcamel", "six_hump_camel"), ("camel", "six_hump_camel"),
     ("Styblinski-Tang", "styblinski_tang"), ("goldstein-price", "goldstein_price"),
     ("ROSENBROCK", "rosenbrock"), ("bowl", "quadratic")],
)
def test_function_name_resolution(name, expected):
    assert FUNCTIONS.resolve(name).name == expected


def test_all_issue_functions_exist():
    assert set(FUNCTIONS.names()) >= {
        "quadratic", "parabola", "rosenbrock", "rastrigin", "beale", "himmelblau", "booth",
        "ackley", "saddle", "six_hump_camel", "styblinski_tang", "goldstein_price"}


@pytest.mark.parametrize("name", FUNCTIONS.names())
def test_function_record(name):
    rec = FUNCTIONS.resolve(name)
    assert rec.dim in (1, 2)
    assert len(rec.start) == rec.dim
    assert rec.description and rec.formula
    for lo, hi in rec.domain:
        assert lo < hi
    assert all(lo <= s <= hi for s, (lo, hi) in zip(rec.start, rec.domain, strict=True))
    fn = rec.load()
    for m in rec.minima:
        assert len(m) == rec.dim
        assert all(lo <= v <= hi for v, (lo, hi) in zip(m, rec.domain, strict=True))
        p = torch.tensor(m, dtype=torch.float64, requires_grad=True)
        value = fn(p)
        assert value.shape == ()
        assert float(value.detach()) == pytest.approx(rec.f_min, abs=1e-4)
        (grad,) = torch.autograd.grad(value, p)
        hess = torch.autograd.functional.hessian(fn, p.detach())
        # The listed minima are rounded (six_hump_camel to 4 decimals), so the gradient is not
        # exactly zero; what must hold is that a Newton step from the listed point is tiny,
        # i.e. it lies within 1e-4 of a true critical point, and that the point is a minimum.
        newton = torch.linalg.solve(hess, grad)
        assert float(newton.abs().max()) < 1e-4, (m, grad)
        assert float(torch.linalg.eigvalsh(hess).min()) > 0
    if rec.f_min is None:
        # Unbounded below (saddle): there is a direction along which f falls without limit.
        assert float(fn(torch.tensor([0.0, 1e3], dtype=torch.float64))) < -1e5
    else:
        # No sampled point of the domain goes below the stated global minimum.
        grid = surface(rec, resolution=201)
        assert float(grid.z.min()) >= rec.f_min - 1e-6


@pytest.mark.parametrize("name", FUNCTIONS.names())
def test_grid_evaluation_equals_pointwise(name):
    rec = FUNCTIONS.resolve(name)
    fn = rec.load()
    grid = surface(rec, resolution=9)
    xs = torch.linspace(*rec.domain[0], 9, dtype=torch.float64)
    assert grid.xs.tolist() == pytest.approx(xs.tolist(), abs=1e-12)
    if rec.dim == 1:
        assert grid.ys is None
        assert grid.z.shape == (9,)
        for j, x in enumerate(grid.xs):
            expected = float(fn(torch.tensor([x], dtype=torch.float64)))
            assert grid.z[j] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        return
    assert grid.z.shape == (9, 9)
    for i, y in enumerate(grid.ys):
        for j, x in enumerate(grid.xs):
            expected = float(fn(torch.tensor([x, y], dtype=torch.float64)))
            # z[i][j] is f(xs[j], ys[i]): rows follow y, as contour() expects.
            assert grid.z[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", FUNCTIONS.names())
def test_function_is_differentiable_at_its_start(name):
    rec = FUNCTIONS.resolve(name)
    p = torch.tensor(rec.start, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(rec.load()(p), p)
    assert torch.isfinite(grad).all()
    assert float(grad.abs().max()) > 0  # a start at a critical point would show no motion
