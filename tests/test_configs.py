"""The shipped configs and the committed gallery.

Every config in configs/ is rendered afresh (each one a test, at its own settings, through
``check_gallery`` in the test's process, so the configs spread over pytest-xdist's workers)
and must not fail; the committed gallery/ must hold the same figures: the same resolved
configs, the same exported numbers, the same pixels and the same bytes, with no text drawn
past the canvas. Then the
seed reproductions are checked against the articles' numbers: closed forms for the paths, and
torch's schedulers stepped by hand for every LR series.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

from optviz.config import load_config
from optviz.gallery.build import check_gallery, find_configs

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
GALLERY = ROOT / "gallery"
CONFIG_FILES = find_configs(CONFIGS)

# Anti-aliased edges may differ by a few pixels between runs of the same figure; anything more
# than this share of differing pixels means the committed picture is out of step with configs/.
PIXEL_TOLERANCE = 0.002


def rel(path: Path) -> str:
    return path.relative_to(CONFIGS).as_posix()


@pytest.fixture(scope="module")
def committed_images() -> list[str]:
    return sorted(p.relative_to(GALLERY).as_posix() for p in images(GALLERY))


def _render_here(config: Path, work: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> tuple[Any, dict, Any]:
    """One config rendered afresh in this process, as a gallery worker does (one torch
    thread), into ``work``, and compared byte for byte with gallery/; with the figure drawn
    and, for an animation, the figure its frames were drawn from (their texts are checked on
    them too, instead of drawing every config twice)."""
    import optviz.figures.animate as animate
    import optviz.figures.write as write

    caught: list[Any] = []
    animators: list[Any] = []

    def render_and_keep(spec: Any, hooks: Any = None) -> Any:
        caught.append(original(spec, hooks))
        return caught[-1]

    def animator_and_keep(*args: Any) -> Any:
        animators.append(animator(*args))
        return animators[-1]

    original, animator = write.render_figure, animate._animator
    monkeypatch.setattr(write, "render_figure", render_and_keep)
    monkeypatch.setattr(animate, "_animator", animator_and_keep)
    check = check_gallery(CONFIGS, GALLERY, work_dir=work, jobs=1, fresh=False, only=[config])
    failed = [f"{e.name}: {e.reason}" for e in check.summary.failed]
    assert not failed, failed
    assert len(caught) == 1 and len(animators) <= 1
    return caught[0], check.out_of_step, animators[0][0] if animators else None


@pytest.mark.parametrize("config", CONFIG_FILES, ids=rel)
def test_committed_figure_is_a_fresh_render_of_its_config(
        config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        png_pixels: Callable[[Path | bytes], np.ndarray],
        texts_off_canvas: Callable[[Any], list[str]]) -> None:
    rendered, out_of_step, animator = _render_here(config, tmp_path, monkeypatch)
    old, new = sidecar(GALLERY, config), sidecar(tmp_path, config)
    assert old["config"] == new["config"], "gallery/ is stale: run 'optviz gallery configs/'"
    assert old["source"] == "../configs/" + rel(config)  # relative to the gallery folder
    stem = rel(config).removesuffix(".yaml").removesuffix(".yml")
    name = stem + next((s for s in (".gif", ".mp4") if (tmp_path / f"{stem}{s}").exists()),
                       ".png")
    if out_of_step:  # say how far apart they are first: numbers, then pixels
        assert_same_numbers(old["data"], new["data"])
        pixels = {".gif": gif_pixels, ".mp4": mp4_pixels}.get(name[-4:], png_pixels)
        a, b = pixels(GALLERY / name), pixels(tmp_path / name)
        assert a.shape == b.shape
        differing = np.any(a != b, axis=-1).mean()
        assert differing <= PIXEL_TOLERANCE, f"{differing:.2%} of the pixels differ"
    # PNG bytes and sidecar bytes, not only the content hash: a picture that changes without
    # its hash (a thread-count-dependent sum, a library's drawing) is caught here. Equal bytes
    # are equal numbers and pixels: the comparisons above only run to say what differs.
    assert out_of_step == {}, "gallery/ is out of step: run 'optviz gallery configs/'"
    # The figure the picture was saved from, laid out by that save; for an animation, the
    # figure its frames were drawn from, as its last frame left it.
    if name.endswith(".png"):
        assert animator is None
        assert texts_off_canvas(rendered.figure, laid_out=True) == []
    else:
        assert animator is not None
        assert texts_off_canvas(animator.fig, laid_out=True) == []


def sidecar(folder: Path, config: Path) -> dict[str, Any]:
    return json.loads((folder / rel(config)).with_suffix(".json").read_text())


def test_there_are_configs_of_every_kind() -> None:
    kinds = {load_config(path).kind for path in CONFIG_FILES}
    assert kinds == {"trajectory", "schedule", "ema", "sweep", "basin", "rank"}
    layouts = {(spec.kind, spec.layout) for spec in map(load_config, CONFIG_FILES)
               if hasattr(spec, "layout")}
    assert layouts == {("trajectory", "overlay"), ("trajectory", "panels"),
                       ("schedule", "overlay"), ("schedule", "panels")}


def test_every_config_has_its_committed_figure_and_nothing_else(
        committed_images: list[str]) -> None:
    from optviz.gallery.build import output_name

    drawn = sorted(output_name(PurePosixPath(rel(path)), load_config(path), GALLERY).as_posix()
                   for path in CONFIG_FILES)
    assert committed_images == drawn


def images(folder: Path) -> list[Path]:
    """The gallery's pictures: PNGs, and GIFs or MP4 videos for animated configs."""
    return [*folder.rglob("*.png"), *folder.rglob("*.gif"), *folder.rglob("*.mp4")]


def mp4_pixels(path: Path) -> np.ndarray:
    """An MP4's last frame (the whole run, held) as (height, width, 3) 0..255 RGB."""
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(str(path))
    meta = next(frames)
    *_, last = frames
    width, height = meta["size"]
    return np.frombuffer(last, dtype=np.uint8).reshape(height, width, 3).astype(np.int16)


def gif_pixels(path: Path) -> np.ndarray:
    """A GIF's last frame (the whole run) as (height, width, 3) 0..255 RGB."""
    from PIL import Image

    with Image.open(path) as im:
        im.seek(im.n_frames - 1)
        return np.asarray(im.convert("RGB")).astype(np.int16)


def assert_same_numbers(old: Any, new: Any, where: str = "data") -> None:
    """Equal structure; floats equal to 1e-9 relative (one machine, one torch)."""
    if isinstance(old, dict):
        assert isinstance(new, dict) and old.keys() == new.keys(), where
        for key in old:
            assert_same_numbers(old[key], new[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(old) == len(new), where
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            assert_same_numbers(a, b, f"{where}[{i}]")
    elif isinstance(old, float) and isinstance(new, float):
        assert new == pytest.approx(old, rel=1e-9, abs=1e-12), where
    else:
        assert old == new, where


def test_the_index_lists_every_committed_figure() -> None:
    readme = (GALLERY / "README.md").read_text()
    html = (GALLERY / "index.html").read_text()
    for png in images(GALLERY):
        name = png.relative_to(GALLERY).as_posix()
        assert f"({name})" in readme
        assert f'src="{name}"' in html


# -- the seed reproductions, by their numbers --------------------------------------------------


def panels(config: str) -> dict[str, dict[str, Any]]:
    data = sidecar(GALLERY, CONFIGS / config)["data"]
    return {p["title"]: p for p in data["panels"]}


def test_handwritten_2x4_gd_paths_equal_the_closed_form() -> None:
    # x² + 10y² from (4, 3): GD multiplies x by (1 - 2·lr) and y by (1 - 20·lr) each step.
    figure = panels("seed/handwritten_2x4.yaml")
    # the article repeats GD 0.1; the figure says so in the repeated panel's title
    assert list(figure) == ["GD, lr=0.1", "GD, lr=0.01", "MomentumGD, lr=0.01",
                            "NesterovGD, lr=0.01", "GD, lr=0.1 (repeated, as in the article)",
                            "AdaGrad, lr=0.1", "RMSProp, lr=0.1", "Adam, lr=0.1"]
    for title, lr in (("GD, lr=0.1", 0.1), ("GD, lr=0.01", 0.01)):
        (run,) = figure[title]["runs"]
        expected = [[4 * (1 - 2 * lr) ** k, 3 * (1 - 20 * lr) ** k] for k in range(101)]
        np.testing.assert_allclose(run["points"], expected, rtol=1e-5, atol=1e-6)
        assert run["hyperparameters"]["lr"] == lr
    rms = figure["RMSProp, lr=0.1"]["runs"][0]["hyperparameters"]
    assert (rms["alpha"], rms["lr"]) == (0.9, 0.1)
    assert figure["AdaGrad, lr=0.1"]["runs"][0]["hyperparameters"]["eps"] == 1e-8


def test_parabola_learning_rates_equal_the_closed_form() -> None:
    # 4x² from x = 2: SGD multiplies x by (1 - 8·lr): -7 (diverges), -0.6, and 0 at lr 0.125.
    figure = panels("seed/parabola_lr.yaml")
    one = figure["lr = 1 (diverges)"]["runs"][0]
    assert one["diverged"] is not None
    finite = [p[0] for p in one["points"] if p[0] is not None]
    assert finite == pytest.approx([2 * (-7) ** k for k in range(len(finite))])
    converges = figure["lr = 0.2 (converges)"]["runs"][0]
    assert [p[0] for p in converges["points"]] == pytest.approx(
        [2 * (-0.6) ** k for k in range(11)], rel=1e-5, abs=1e-7)
    onestep = figure["lr = 0.125 (one step)"]["runs"][0]
    assert [p[0] for p in onestep["points"]] == [2.0] + [0.0] * 10


def test_parabola_momentum_equals_sgd_written_out() -> None:
    data = sidecar(GALLERY, CONFIGS / "seed/parabola_momentum.yaml")["data"]
    for run, (lr, mu) in zip(data["runs"], ((0.01, 0.0), (0.03, 0.0), (0.01, 0.9)), strict=True):
        x, v, path = 2.0, 0.0, [2.0]
        for _ in range(100):
            v = mu * v + 8 * x
            x -= lr * v
            path.append(x)
        assert [p[0] for p in run["points"]] == pytest.approx(path, rel=1e-4, abs=1e-6)


def test_ema_weights_are_the_articles() -> None:
    data = sidecar(GALLERY, CONFIGS / "seed/ema.yaml")["data"]
    assert data["betas"] == [0.98, 0.95, 0.9, 0.8]
    for beta, weights in zip(data["betas"], data["weights"], strict=True):
        assert weights == pytest.approx([(1 - beta) * beta**i for i in range(100)])


# -- every LR series of the schedule configs equals torch stepped by hand ---------------------

TORCH_CLASS = {name: getattr(L, name) for name in dir(L) if isinstance(getattr(L, name), type)}


def by_hand(run: dict[str, Any], data: dict[str, Any]) -> list[float] | None:
    """torch's scheduler, built from the run's class and resolved parameters and stepped in
    the article's loop; None where the parameters are not plain values (formulas, nested
    schedulers, a metric, transformers' functions)."""
    cls = TORCH_CLASS.get(run["class_path"].rsplit(".", 1)[-1])
    if cls is None or cls is L.ReduceLROnPlateau or not run["class_path"].startswith("torch."):
        return None
    if {"lr_lambda", "schedulers"} & set(run["parameters"]):
        return None
    steps, per_epoch = data["epochs"] * data["steps_per_epoch"], data["steps_per_epoch"]
    opt_name = data["optimizer_name"]
    params = [torch.nn.Parameter(torch.zeros(1, 2))]
    if opt_name == "adam":
        optimizer: Any = torch.optim.Adam(params, lr=data["lr"][0])
    elif opt_name == "adamw":
        optimizer = torch.optim.AdamW(params, lr=data["lr"][0])
    else:
        momentum = 0.9 if "momentum=0.9" in data["optimizer"] else 0.0
        optimizer = torch.optim.SGD(params, lr=data["lr"][0], momentum=momentum)
    scheduler = cls(optimizer, **run["parameters"])
    out = []
    for i in range(steps):
        optimizer.step()
        out.append(optimizer.param_groups[0]["lr"])
        if data["interval"] == "step" or (i + 1) % per_epoch == 0:
            scheduler.step()
    return out


def schedule_results(config: Path) -> list[dict[str, Any]]:
    data = sidecar(GALLERY, config)["data"]
    return data["panels"] if data.get("layout") == "panels" else [data]


SCHEDULE_CONFIGS = [p for p in CONFIG_FILES if load_config(p).kind == "schedule"]


@pytest.mark.parametrize("config", SCHEDULE_CONFIGS, ids=rel)
def test_schedule_config_series_equal_torch_by_hand(config: Path) -> None:
    checked = 0
    for data in schedule_results(config):
        for run in data["runs"]:
            if run.get("error"):
                continue
            expected = by_hand(run, data)
            if expected is None:
                continue
            assert run["lr"] == pytest.approx(expected, rel=1e-12, abs=1e-18), run["label"]
            checked += 1
    if config.name in ("step.yaml", "summary.yaml", "cyclic.yaml", "onecycle.yaml"):
        assert checked >= 1


def test_the_summary_grid_has_every_scheduler_of_the_article() -> None:
    data = sidecar(GALLERY, CONFIGS / "schedules/summary.yaml")["data"]
    classes = {run["class_path"].rsplit(".", 1)[-1] for run in data["runs"]}
    assert classes == {"StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                       "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
                       "CyclicLR", "OneCycleLR", "ReduceLROnPlateau", "LambdaLR",
                       "MultiplicativeLR"}
    step = next(r for r in data["runs"] if r["scheduler"] == "step")
    assert step["lr"] == pytest.approx([1e-3 * 0.5 ** (i // 4) for i in range(32)])


def test_transformers_linear_warmup_of_the_torch_optim_article() -> None:
    # 1000 steps, 10% warmup: 0 → lr over 100 steps, then linearly down to 0.
    data = sidecar(GALLERY, CONFIGS / "schedules/transformers_linear_warmup.yaml")["data"]
    warm, none = (run["lr"] for run in data["runs"])
    lr = 1e-3
    assert warm == pytest.approx(
        [lr * (s / 100 if s < 100 else max(0.0, (1000 - s) / 900)) for s in range(1000)])
    assert none == pytest.approx([lr * (1000 - s) / 1000 for s in range(1000)])
    assert math.isclose(max(warm), lr)
