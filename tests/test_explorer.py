"""The HTML explorer (-o x.html) in a real browser: headless Chromium (Debian's package) driven
by Playwright, no browser download. The page's drawn paths are read back from plotly's own
trace data and compared with the --export of the same run at that lr and step."""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from optviz.cli import app
from optviz.figures.explore import lr_grid
from optviz.figures.write import render_figure, write_figure
from optviz.hooks import Hooks
from optviz.spec.figures import ScheduleSpec, TrajectorySpec, build, resolved_config

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                         if Path("/usr/bin/chromium").exists() else None)
DONE_WHEN = ["momentum", "adam", "-f", "rosenbrock", "--lr", "0.01"]


# -- the browser, one per module ---------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium): the explorer's "
                    "browser tests need one")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chrome
        chrome.close()


class Page:
    """An explorer page in the browser, with every request it made."""

    def __init__(self, browser: Any, path: Path, hash_: str = "") -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})

        def route(r: Any) -> None:
            self.requests.append(r.request.url)
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                r.abort()

        self.page.route("**/*", route)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(path.resolve().as_uri() + hash_)
        self.page.wait_for_function("window.optviz && (window.optviz.ready || window.optviz.error)",
                                    timeout=30_000)
        assert self.js("window.optviz.error || null") is None, self.errors
        assert not self.errors

    def js(self, expr: str, arg: Any = None) -> Any:
        return self.page.evaluate(expr, arg)

    def trace(self, div: str, uid: str) -> dict[str, Any]:
        return self.js("([d, u]) => { const t = document.getElementById(d).data"
                       ".find(t => t.uid === u);"
                       " return {x: Array.from(t.x), y: Array.from(t.y)}; }", [div, uid])

    def slide(self, selector: str, value: int) -> None:
        self.page.locator(selector).fill(str(value))

    def close(self) -> None:
        self.page.close()


# -- the done-when page --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def done_when(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The issue's call, through the CLI, with the paths it must show."""
    folder = tmp_path_factory.mktemp("explorer")
    out = folder / "explore.html"
    result = runner.invoke(app, ["trajectory", *DONE_WHEN, "-o", str(out)])
    assert result.exit_code == 0, result.output
    grid, first = lr_grid(0.01)
    return {"path": out, "grid": grid, "first": first}


@pytest.fixture(scope="module")
def done_page(browser: Any, done_when: dict[str, Any]) -> Iterator[Page]:
    """The done-when page loaded once for the tests that only move its sliders (a page load
    is about 2 core-seconds of Chromium, most of it compiling plotly.js): each sets every
    slider it reads first. How the page opens is checked here, on its fresh load."""
    page = Page(browser, done_when["path"])
    assert page.js("document.getElementById('optviz-lr').max") == str(len(done_when["grid"]) - 1)
    assert page.js("Number(document.getElementById('optviz-lr').value)") == 16
    steps = page.js("Number(document.getElementById('optviz-step').max)")
    assert page.js("Number(document.getElementById('optviz-step').value)") == steps
    yield page
    assert not page.errors
    page.close()


def exported(lr: float, **extra: Any) -> dict[str, Any]:
    """The --export JSON of the done-when call at ``lr``, as the CLI writes it."""
    spec = build(TrajectorySpec, {"optimizers": ["momentum", "adam"], "function": "rosenbrock",
                                  "lr": lr, **extra})
    return render_figure(spec).data


def drawn(run: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """An exported run's points and loss as the picture draws them: cut where it diverged."""
    points = np.array([[np.nan if v is None else v for v in p] for p in run["points"]])
    loss = np.array([np.nan if v is None else v for v in run["loss"]])
    if run.get("diverged"):
        points[run["diverged"]:] = np.nan
        loss[run["diverged"]:] = np.nan
    return points, loss


def as_array(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_the_grid_is_33_lrs_over_two_decades_centred_exactly() -> None:
    grid, first = lr_grid(0.01)
    assert len(grid) == 33 and first == 16 and grid[16] == 0.01
    assert grid[0] == pytest.approx(1e-3) and grid[-1] == pytest.approx(0.1)
    assert np.allclose(np.diff(np.log(grid)), math.log(100) / 32)
    chosen, near = lr_grid(0.01, "1e-3:1:64")
    assert len(chosen) == 64 and chosen[0] == 1e-3 and chosen[-1] == 1.0
    assert abs(math.log(chosen[near] / 0.01)) <= math.log(1000) / 63 / 2 + 1e-12


def test_lr_slider_draws_the_exported_paths_at_each_grid_lr(done_page: Page,
                                                           done_when: dict[str, Any]) -> None:
    page = done_page
    grid = done_when["grid"]
    for index in (0, 7, 16, 24, 32):
        page.slide("#optviz-lr", index)
        data = exported(grid[index])
        for i, run in enumerate(data["runs"]):
            points, loss = drawn(run)
            path = page.trace("optviz-paths", f"path-{i}")
            # The batched engine runs polynomial functions bit for bit as lone runs do.
            np.testing.assert_array_equal(as_array(path["x"]), points[:, 0])
            np.testing.assert_array_equal(as_array(path["y"]), points[:, 1])
            np.testing.assert_array_equal(as_array(page.trace("optviz-loss", f"loss-{i}")["y"]),
                                          loss)
        assert page.js("window.optviz.path(1).lr") == grid[index]


def test_step_slider_moves_each_head_and_the_loss_cursor(done_page: Page,
                                                        done_when: dict[str, Any]) -> None:
    page = done_page
    page.slide("#optviz-lr", 4)
    page.slide("#optviz-step", 40)
    data = exported(done_when["grid"][4])
    for i, run in enumerate(data["runs"]):
        points, loss = drawn(run)
        k = 40 if not run.get("diverged") else min(40, run["diverged"] - 1)
        head = page.trace("optviz-paths", f"head-{i}")
        assert (head["x"][0], head["y"][0]) == (points[k, 0], points[k, 1])
        loss_head = page.trace("optviz-loss", f"loss-head-{i}")
        assert (loss_head["x"][0], loss_head["y"][0]) == (k, loss[k])
    cursor = page.js("document.getElementById('optviz-loss').layout.shapes[0]")
    assert cursor["x0"] == cursor["x1"] == 40


def test_the_hash_opens_the_view_and_moving_a_slider_writes_it(browser: Any,
                                                              done_when: dict[str, Any]) -> None:
    grid = done_when["grid"]
    page = Page(browser, done_when["path"], f"#lr={grid[5]!r}&step=40")
    assert page.js("Number(document.getElementById('optviz-lr').value)") == 5
    assert page.js("Number(document.getElementById('optviz-step').value)") == 40
    assert page.js("window.optviz.path(0).lr") == grid[5]
    page.slide("#optviz-lr", 9)
    page.slide("#optviz-step", 12)
    hash_ = page.js("location.hash")
    assert re.fullmatch(r"#lr=[0-9.e-]+&step=12", hash_)
    assert float(hash_.split("&")[0][4:]) == grid[9]
    heads = [page.trace("optviz-paths", f"head-{i}") for i in range(2)]
    page.close()
    again = Page(browser, done_when["path"], hash_)
    assert again.js("Number(document.getElementById('optviz-lr').value)") == 9
    assert again.js("Number(document.getElementById('optviz-step').value)") == 12
    assert [again.trace("optviz-paths", f"head-{i}") for i in range(2)] == heads
    # A link written by hand at a value off the grid opens at the nearest grid lr.
    again.page.evaluate("location.hash = '#lr=0.0101&step=3'")
    again.page.wait_for_function("Number(document.getElementById('optviz-step').value) === 3")
    assert again.js("Number(document.getElementById('optviz-lr').value)") == 16
    again.close()


def test_play_runs_the_steps_and_the_page_asks_no_network_host(done_page: Page) -> None:
    page = done_page
    page.slide("#optviz-lr", 3)
    page.slide("#optviz-step", page.js("Number(document.getElementById('optviz-step').max)"))
    page.page.locator("#optviz-play").click()  # from the end, play starts again at step 0
    page.page.wait_for_function("window.optviz.state.step > 2 && window.optviz.state.step < 100"
                                " && location.hash.endsWith('&step=' + window.optviz.state.step)")
    page.page.locator("#optviz-play").click()  # pause
    page.page.wait_for_function("!window.optviz.state.playing")
    assert page.requests and all(u.startswith("file://") for u in page.requests), page.requests
    assert page.js("typeof Plotly") == "object"  # the inlined library, unpacked in the page


def test_the_command_shown_draws_the_view(done_page: Page, done_when: dict[str, Any]) -> None:
    page = done_page
    page.slide("#optviz-lr", 20)
    command = page.js("document.getElementById('optviz-command').textContent")
    words = shlex.split(command)
    assert words[:2] == ["optviz", "trajectory"]
    result = runner.invoke(app, [*words[1:], "--dump-config"])
    assert result.exit_code == 0, result.output
    from optviz.config import parse_config

    shown = parse_config(result.output, "shown")
    lr = done_when["grid"][20]
    want = build(TrajectorySpec, {"optimizers": [f"momentum:lr={lr!r}", f"adam:lr={lr!r}"],
                                  "function": "rosenbrock"})
    assert resolved_config(shown) == resolved_config(want)


# -- bytes, size, errors -----------------------------------------------------------------------


def test_same_config_same_bytes_and_the_size_budget() -> None:
    spec = build(TrajectorySpec, {"optimizers": ["sgd", "adam", "rmsprop"],
                                  "function": "rosenbrock", "steps": 200, "lr": 1e-3})
    first = render_figure(spec).image_bytes(".html")
    second = render_figure(spec).image_bytes(".html")
    assert first == second
    assert len(first) < 5_000_000, len(first)
    text = first.decode()
    assert text.count('"lrs":[') == 3 and "uuid" not in text
    data = json.loads(re.search(r'id="optviz-data">(.*?)</script>', text, re.S).group(1))
    assert [r["points"]["shape"] for r in data["runs"]] == [[33, 201, 2]] * 3


def test_optimizers_that_cannot_batch_run_alone_and_say_so(out_dir: Path) -> None:
    notes: list[str] = []
    spec = build(TrajectorySpec, {"optimizers": ["lbfgs"], "function": "quadratic",
                                  "steps": 5, "lr": 0.1, "explore_lrs": "0.01:1:3",
                                  "output": str(out_dir / "x.html")})
    write_figure(spec, Hooks(note=notes.append))
    assert any("one at a time" in n for n in notes), notes
    text = (out_dir / "x.html").read_text()
    data = json.loads(re.search(r'id="optviz-data">(.*?)</script>', text, re.S).group(1))
    assert data["runs"][0]["lrs"] == [0.01, 0.1, 1.0]


@pytest.mark.parametrize(("args", "message"), [
    (["ema", "-o", "x.html"], None),
    (["trajectory", "adam", "--explore-lrs", "1:0.1:3", "-o", "x.html"], "--explore-lrs"),
    (["trajectory", "adam", "--explore-lrs", "1e-3:1:300", "-o", "x.html"], "at most 256"),
])
def test_bad_explorer_input_is_one_line(args: list[str], message: str | None, out_dir: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(out_dir)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    if message:
        assert message in result.output
    assert not (out_dir / "x.html").exists()


def test_a_config_without_an_explorer_is_refused(out_dir: Path) -> None:
    from optviz.errors import UnsupportedError
    from optviz.spec.figures import EmaSpec

    with pytest.raises(UnsupportedError, match="no interactive page"):
        render_figure(build(EmaSpec, {})).image_bytes(".html")
    panels = build(TrajectorySpec, {"optimizers": ["adam"], "panels": [{}, {"lr": 0.1}]})
    with pytest.raises(UnsupportedError, match="panels"):
        render_figure(panels).image_bytes(".html")


# -- the linear model ----------------------------------------------------------------------------


def test_linear_model_paths_are_the_exported_weights_on_the_figures_plane(
        browser: Any, out_dir: Path) -> None:
    notes: list[str] = []
    base = {"optimizers": ["adam", "sgd"], "model": "linear", "epochs": 2, "lr": 0.01}
    spec = build(TrajectorySpec, {**base, "output": str(out_dir / "m.html")})
    written = write_figure(spec, Hooks(note=notes.append))
    assert not any("once per lr" in n for n in notes)  # trained at every lr at once
    problem = written.result.problem
    origin, dirs = np.array(problem["origin"]), np.array(problem["directions"])
    page = Page(browser, out_dir / "m.html")
    grid, _ = lr_grid(0.01)
    for index in (2, 30):
        page.slide("#optviz-lr", index)
        data = render_figure(build(TrajectorySpec, {**base, "lr": grid[index]})).data
        for i, run in enumerate(data["runs"]):
            weights = np.array(run["weights"], dtype=float)
            want = (weights - origin) @ dirs.T
            path = page.trace("optviz-paths", f"path-{i}")
            got = np.stack([as_array(path["x"]), as_array(path["y"])], axis=1)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
            loss = as_array(page.trace("optviz-loss", f"loss-{i}")["y"])
            np.testing.assert_allclose(loss, as_array(run["loss"]), rtol=1e-6)
    page.close()


@pytest.mark.parametrize(("name", "batch_size"), [("adam", 1), ("sgd:momentum=0.9", 32),
                                                  ("adagrad", 0), ("rprop", 8)])
def test_the_model_at_every_lr_at_once_is_each_lone_run_bit_for_bit(name, batch_size) -> None:
    """``train_lrs`` (the explorer's lr slider on the linear model) against ``train`` run
    alone at each lr: the same weights and losses to the last bit, NaN where a lone run has
    stopped on a divergence (the grid's top lrs diverge for SGD with momentum)."""
    from optviz.engines.model import effective_batch, train, train_lrs, trains_over_lrs
    from optviz.figures.auto import plan_trajectory
    from optviz.problems.linear import make_data
    from optviz.registry import FUNCTIONS

    spec = build(TrajectorySpec, {"optimizers": [name], "model": "linear", "epochs": 2,
                                  "in_features": 3, "samples": 48, "batch_size": batch_size})
    plan = plan_trajectory(spec, FUNCTIONS.resolve(spec.function), None)[0]
    assert trains_over_lrs(plan)
    lrs = [1e-3, 0.03, 0.3, 3.0, 1e6]
    settings = {"in_features": 3, "out_features": 1, "bias": True, "samples": 48,
                "batch_size": batch_size, "epochs": 2, "noise": spec.noise, "seed": spec.seed}
    weights, loss = train_lrs(plan, lrs, **settings)
    import torch

    from optviz.engines.single import DTYPES

    data = make_data(48, 3, 1, True, spec.noise, spec.seed, DTYPES["float32"],
                     torch.device("cpu"))
    stopped = 0
    for row, lr in enumerate(lrs):
        alone = train(replace_lr(plan, lr), data, True, 2, batch_size, spec.seed)
        want = np.array(alone.points, dtype=float)
        np.testing.assert_array_equal(weights[row], want)
        np.testing.assert_array_equal(loss[row], np.array(alone.loss, dtype=float))
        stopped += alone.diverged is not None
    assert weights.shape[1] == 2 * -(-48 // effective_batch(batch_size, 48)) + 1
    if name.startswith("sgd"):
        assert stopped  # a divergence was met, and stopped where the lone run stops


def replace_lr(plan: Any, lr: float) -> Any:
    import dataclasses

    return dataclasses.replace(plan, kwargs={**plan.kwargs, "lr": lr})


# -- schedules ---------------------------------------------------------------------------------


def torch_step_lr(lr: float, step_size: int, gamma: float, steps: int) -> list[float]:
    import torch

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_schedule_sliders_switch_the_curve_to_torchs_own(browser: Any, out_dir: Path) -> None:
    out = out_dir / "s.html"
    result = runner.invoke(app, ["schedule", "step:step_size=4,gamma=0.5", "cosine", "--lr",
                                 "0.1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = Page(browser, out)
    sliders = page.js("window.optviz.data.schedulers[0].sliders")
    assert [s["key"] for s in sliders][:2] == ["step_size", "gamma"]
    gammas = sliders[1]["values"]
    sizes = sliders[0]["values"]
    assert 0.5 in gammas and 4 in sizes and len(gammas) > 3
    j = gammas.index(0.9)
    page.slide("#optviz-setting-1-gamma", j)
    page.slide("#optviz-setting-1-step_size", sizes.index(2))
    curve = as_array(page.trace("optviz-schedule", "schedule-0")["y"])
    np.testing.assert_allclose(curve, torch_step_lr(0.1, 2, 0.9, 32), rtol=1e-12)
    command = page.js("document.getElementById('optviz-command').textContent")
    assert "step:step_size=2,gamma=0.9" in command
    hash_ = page.js("location.hash")
    assert "1.gamma=0.9" in hash_ and "1.step_size=2" in hash_
    page.close()
    shown = runner.invoke(app, [*shlex.split(command)[1:], "--dump-config"])
    assert shown.exit_code == 0, shown.output
    from optviz.config import parse_config

    want = build(ScheduleSpec, {"schedulers": ["step:step_size=2,gamma=0.9", "cosine"],
                                "lr": 0.1})
    assert resolved_config(parse_config(shown.output, "shown")) == resolved_config(want)
    again = Page(browser, out, hash_)
    np.testing.assert_array_equal(as_array(again.trace("optviz-schedule", "schedule-0")["y"]),
                                  curve)
    again.close()


# -- sweep and basin -----------------------------------------------------------------------------


def test_sweep_and_basin_pages_hold_their_data(browser: Any, out_dir: Path) -> None:
    sweep = out_dir / "sweep.html"
    result = runner.invoke(app, ["sweep", "adam", "-f", "quadratic", "--lr", "1e-3:1:9",
                                 "--steps", "30", "-o", str(sweep), "--export",
                                 str(out_dir / "sweep.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((out_dir / "sweep.json").read_text())
    page = Page(browser, sweep)
    best = page.trace("optviz-sweep", "best")
    assert best["x"] == [data["best"]["lr"]]
    line = page.trace("optviz-sweep", "sweep")
    assert line["x"] == [lr for lr, t in zip(data["lr"], data["tail_loss"], strict=True)
                         if t is not None]
    page.close()

    basin = out_dir / "basin.html"
    result = runner.invoke(app, ["basin", "adam", "-f", "himmelblau", "--lr", "0.05",
                                 "--grid", "8", "--steps", "20", "-o", str(basin), "--export",
                                 str(out_dir / "basin.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((out_dir / "basin.json").read_text())
    page = Page(browser, basin)
    for i, j in ((0, 0), (3, 5), (7, 7)):
        assert page.js(f"window.optviz.final({i}, {j})") == data["final_loss"][i * 8 + j]
    page.close()


# -- the gallery's interactive twins -------------------------------------------------------------


def test_gallery_twins_share_one_plotly_and_the_index_links_them(browser: Any,
                                                                tmp_path: Path) -> None:
    from optviz.gallery.build import build_gallery
    from optviz.render.html import plotly_js

    configs = tmp_path / "configs"
    (configs / "sub").mkdir(parents=True)
    (configs / "sub" / "paths.yaml").write_text(
        "kind: trajectory\noptimizers: [adam, sgd]\nfunction: quadratic\nsteps: 20\nlr: 0.1\n")
    (configs / "lr.yaml").write_text("kind: schedule\nschedulers: [step]\n")
    (configs / "ema.yaml").write_text("kind: ema\n")
    (configs / "grid.yaml").write_text(
        "kind: trajectory\noptimizers: [adam]\nsteps: 5\npanels: [{lr: 0.1}, {lr: 0.2}]\n")
    out = tmp_path / "gallery"
    summary = build_gallery(configs, out, jobs=1)
    assert not summary.failed
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == [
        "index.html", "lr.html", "sub/paths.html"]
    assert (out / "plotly.min.js").read_text() == plotly_js()
    twin = (out / "sub" / "paths.html").read_text()
    assert '<script src="../plotly.min.js"></script>' in twin
    assert len(twin) < 400_000  # the library is not inlined
    # ... nor the page program and style: one shared copy of each beside plotly.js, the
    # program loaded after the data.
    from optviz.render.html import EXPLORER_CSS, EXPLORER_JS, shared_assets
    assets = shared_assets()
    assert (out / EXPLORER_JS).read_text() == assets[EXPLORER_JS]
    assert (out / EXPLORER_CSS).read_text() == assets[EXPLORER_CSS]
    assert twin.index('id="optviz-data"') < twin.index('<script src="../optviz-explorer.js">')
    assert '<link rel="stylesheet" href="../optviz-explorer.css">' in twin
    assert "addEventListener" not in twin and "function " not in twin and "<style>" not in twin
    index = (out / "index.html").read_text()
    assert index.count('class="twin"') == 2
    assert 'href="sub/paths.html"' in index and 'href="lr.html"' in index
    page = Page(browser, out / "sub" / "paths.html", "#lr=0.1&step=7")
    assert page.js("Number(document.getElementById('optviz-step').value)") == 7
    assert all(u.startswith("file://") for u in page.requests)
    assert any(u.endswith("/plotly.min.js") for u in page.requests)
    assert any(u.endswith("/optviz-explorer.js") for u in page.requests)
    # The shared style applies: the title's weight is the stylesheet's, not the browser's bold.
    assert page.js("getComputedStyle(document.getElementById('optviz-title')).fontWeight") \
        == "600"
    page.close()


def test_runs_with_their_own_lrs_get_a_slider_each_and_hover_says_it_all(
        browser: Any, out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # From a config, as the render command reads it: output: x.html is the explorer there too.
    monkeypatch.chdir(out_dir)
    (out_dir / "own.yaml").write_text("kind: trajectory\noptimizers: [adam:lr=0.1, "
                                      "sgd:lr=0.01]\nsteps: 30\noutput: own.html\n")
    result = runner.invoke(app, ["render", "own.yaml"])
    assert result.exit_code == 0, result.output
    page = Page(browser, out_dir / "own.html", "#lr1=0.2&lr2=0.001&step=10")
    adam, sgd = lr_grid(0.1)[0], lr_grid(0.01)[0]
    assert page.js("window.optviz.path(0).lr") == adam[int(np.argmin(np.abs(np.log(adam) -
                                                                           np.log(0.2))))]
    assert page.js("window.optviz.path(1).lr") == sgd[0] == pytest.approx(0.001)
    page.slide("#optviz-lr-2", 20)
    assert page.js("location.hash").startswith(f"#lr1={page.js('window.optviz.path(0).lr')}"
                                               f"&lr2={sgd[20]!r}&step=10")
    trace = page.js("document.getElementById('optviz-paths').data"
                    ".find(t => t.uid === 'path-1')")
    assert trace["name"] == f"SGD (lr={sgd[20]:.2g})"
    for word in ("step %{customdata[0]}", "x %{x", "y %{y", "loss %{customdata[1]",
                 f"lr {sgd[20]!r}"):
        assert word in trace["hovertemplate"]
    data = render_figure(build(TrajectorySpec, {"optimizers": [f"sgd:lr={sgd[20]!r}"],
                                                "steps": 30})).data
    assert trace["customdata"][10] == [10, data["runs"][0]["loss"][10]]
    page.close()


def test_a_one_dimensional_function_draws_each_path_on_its_curve(browser: Any,
                                                                out_dir: Path) -> None:
    spec = build(TrajectorySpec, {"optimizers": ["sgd"], "function": "parabola", "steps": 10,
                                  "lr": 0.2, "output": str(out_dir / "p.html")})
    write_figure(spec)
    page = Page(browser, out_dir / "p.html")
    grid, _ = lr_grid(0.2)
    page.slide("#optviz-lr", 25)
    run = render_figure(spec.model_copy(update={"lr": grid[25]})).data["runs"][0]
    points, loss = drawn(run)
    path = page.trace("optviz-paths", "path-0")
    np.testing.assert_array_equal(as_array(path["x"]), points[:, 0])
    np.testing.assert_array_equal(as_array(path["y"]), loss)
    curve = page.trace("optviz-paths", "surface")
    np.testing.assert_allclose(as_array(curve["y"]), 4 * as_array(curve["x"]) ** 2, rtol=1e-6)
    page.close()


def test_the_dumped_config_renders_the_same_page(done_when: dict[str, Any], out_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(out_dir)
    dumped = runner.invoke(app, ["trajectory", *DONE_WHEN, "-o", "explore.html",
                                 "--dump-config"])
    assert dumped.exit_code == 0, dumped.output
    assert "output: explore.html" in dumped.output
    (out_dir / "explore.yaml").write_text(dumped.output)
    result = runner.invoke(app, ["render", "explore.yaml"])
    assert result.exit_code == 0, result.output
    assert (out_dir / "explore.html").read_bytes() == done_when["path"].read_bytes()


def test_schedule_page_colours_are_the_pictures_colours() -> None:
    # A lone variant (triangular2) and a repeated name are styled in the PNG by what they draw;
    # the page must show each curve in the same colour as the still.
    from matplotlib.colors import to_hex

    from optviz.figures.explore import explorer_data
    from optviz.render.html import page_data

    spec = build(ScheduleSpec, {"schedulers": ["cyclic:mode=triangular2", "step",
                                               "step:gamma=0.5"], "epochs": 6})
    rendered = render_figure(spec, Hooks())
    lines = [ln for ln in rendered.figure.axes[0].get_lines() if not ln.get_label().startswith("_")]
    png = [to_hex(ln.get_color()) for ln in lines][:3]
    page = page_data(explorer_data(rendered))
    assert [to_hex(s["colour"]) for s in page["schedulers"]] == png
    assert len(set(png)) == 3
