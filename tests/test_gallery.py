"""``optviz gallery``: parallel, incremental batch rendering with sidecars and an index."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from forked import run_optviz
from typer.testing import CliRunner

from optviz.cli import app
from optviz.gallery.build import GalleryError, GallerySummary, build_gallery
from optviz.spec.figures import build, resolved_config

GOOD = {
    "adam.yaml": "optimizers: [adam]\nsteps: 5\nlr: 0.1\nfunction: quadratic\n"
                 "title: Adam on x² + 10y²\n",
    "sub/sgd.yml": "optimizers: ['sgd:lr=0.01,momentum=0.9']\nsteps: 5\nfunction: quadratic\n",
    "named.yaml": "optimizers: [rmsprop]\nsteps: 5\nlr: 0.05\noutput: figs/rms.png\n",
}
BAD = {
    "bad_steps.yaml": "optimizers: [adam]\nsteps: -1\n",
    "bad_name.yaml": "optimizers: [nosuchoptimizer]\nsteps: 5\n",
    "escape.yaml": "optimizers: [adam]\nsteps: 5\noutput: ../x.png\n",
    "absolute.yaml": "optimizers: [adam]\nsteps: 5\noutput: /tmp/optviz_gallery_escape.png\n",
}


def write_configs(root: Path, configs: dict[str, str]) -> Path:
    for name, text in configs.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def statuses(summary: GallerySummary) -> dict[str, str]:
    return {e.name: e.status for e in summary.entries}


def mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.png")}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, GallerySummary]:
    """Good and bad configs rendered once through the worker pool (--jobs 2)."""
    root = tmp_path_factory.mktemp("mixed")
    configs = write_configs(root / "configs", {**GOOD, **BAD})
    out = root / "gallery"
    return configs, out, build_gallery(configs, out, jobs=2)


def test_good_configs_render_and_bad_ones_fail_alone(mixed) -> None:
    configs, out, summary = mixed
    assert statuses(summary) == {
        "absolute.yaml": "failed", "adam.yaml": "rendered", "bad_name.yaml": "failed",
        "bad_steps.yaml": "failed", "escape.yaml": "failed", "named.yaml": "rendered",
        "sub/sgd.yml": "rendered",
    }
    # Output names: the config's relative path, or its own 'output' key under the folder.
    assert {e.name: e.png.as_posix() for e in summary.entries if e.png} == {
        "adam.yaml": "adam.png", "named.yaml": "figs/rms.png", "sub/sgd.yml": "sub/sgd.png"}
    assert sorted(mtimes(out)) == ["adam.png", "figs/rms.png", "sub/sgd.png"]
    for e in summary.failed:
        assert str(configs / e.name) in e.reason, e.reason
    reasons = {e.name: e.reason for e in summary.failed}
    assert "steps: must be >= 1" in reasons["bad_steps.yaml"]
    assert "nosuchoptimizer" in reasons["bad_name.yaml"]
    assert "'../x.png': leaves the gallery folder" in reasons["escape.yaml"]
    assert "must be a path relative to the gallery folder" in reasons["absolute.yaml"]
    assert not (out.parent / "x.png").exists()
    assert not Path("/tmp/optviz_gallery_escape.png").exists()
    with pytest.raises(GalleryError, match=r"4 of 7 configs failed: .*absolute\.yaml") as info:
        summary.raise_if_failed()
    assert info.value.exit_code == 1
    for name in BAD:
        assert str(configs / name) in str(info.value)


def test_sidecar_and_png_equal_a_direct_render(mixed) -> None:
    from optviz import __version__
    from optviz.config import load_config
    from optviz.figures.write import render_figure

    configs, out, _ = mixed
    for name, png in (("adam.yaml", "adam.png"), ("sub/sgd.yml", "sub/sgd.png"),
                      ("named.yaml", "figs/rms.png")):
        direct = render_figure(load_config(configs / name))
        # Rendered in a worker process, yet byte for byte the in-process picture.
        assert (out / png).read_bytes() == direct.png
        sidecar = json.loads((out / png).with_suffix(".json").read_text())
        assert sidecar["data"] == json.loads(json.dumps(direct.data))
        assert sidecar["config"] == resolved_config(direct.spec)
        assert build(type(direct.spec), sidecar["config"]) == direct.spec  # it reads back
        assert sidecar["seed"] == direct.spec.seed == 0
        assert sidecar["source"] == Path("..", "configs", name).as_posix()
        assert (out / sidecar["source"]).resolve() == (configs / name).resolve()
        assert re.fullmatch(r"[0-9a-f]{64}", sidecar["content_hash"])
        assert sidecar["versions"]["optviz"] == __version__
        assert set(sidecar["versions"]) >= {"optviz", "torch", "matplotlib", "python"}
    # The paths the sidecar holds are the optimizer's own numbers: 5 steps from (4, 3).
    runs = json.loads((out / "adam.json").read_text())["data"]["runs"]
    assert len(runs) == 1 and len(runs[0]["points"]) == 6
    assert runs[0]["points"][0] == pytest.approx([4.0, 3.0])


def test_pngs_are_real_pictures(mixed, png_pixels: Callable) -> None:
    from optviz.render.style import colours_for

    _, out, _ = mixed
    for png in sorted(out.rglob("*.png")):
        pixels = png_pixels(png)
        height, width, _ = pixels.shape
        assert width >= 400 and height >= 200, png
        rgb = pixels.astype(np.int32)
        packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        assert len(np.unique(packed)) > 50, f"{png} looks blank"
    # Adam's path is drawn in Adam's colour.
    colour = colours_for(["adam"])[0]
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    pixels = png_pixels(out / "adam.png")
    assert (np.abs(pixels - rgb).max(axis=-1) <= 8).sum() > 20


def test_index_lists_every_rendered_figure_with_working_relative_links(mixed) -> None:
    configs, out, summary = mixed
    readme, page = (out / "README.md").read_text(), (out / "index.html").read_text()
    images_md = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    links_md = re.findall(r"(?<!!)\[[^\]]*\]\(([^)]+)\)", readme)
    images_html = re.findall(r'<img src="([^"]+)"', page)
    links_html = re.findall(r'<a class="config" href="([^"]+)"', page)
    rendered = sorted(e.png.as_posix() for e in summary.rendered)
    assert sorted(images_md) == sorted(images_html) == rendered
    for link in (*images_md, *links_md, *images_html, *links_html):
        assert not link.startswith(("/", "http:", "https:", "file:")), link
        assert (out / link).is_file(), link
    assert sorted((out / link).resolve() for link in links_html) == sorted(
        (configs / e.name).resolve() for e in summary.rendered)
    assert "Adam on x² + 10y²" in readme and "Adam on x² + 10y²" in page
    assert "## sgd" in readme  # no title: the file stem
    for name in BAD:
        assert Path(name).stem not in readme and Path(name).stem not in page
    # No external resources: the page works offline and from a file:// URL.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_second_run_skips_force_renders_and_a_change_renders_only_that(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The code's hash is pinned: an edit to optviz's source while the test runs must not
    # re-render everything (that it does re-render is checked at the end).
    monkeypatch.setattr("optviz.gallery.build.code_hash", lambda: "code-1")
    two = {k: GOOD[k] for k in ("adam.yaml", "sub/sgd.yml")}
    configs = write_configs(tmp_path / "configs", two)
    out = tmp_path / "gallery"
    first = build_gallery(configs, out, jobs=1)
    assert set(statuses(first).values()) == {"rendered"}
    before = mtimes(out)
    sidecars = {p: p.read_bytes() for p in out.rglob("*.json")}

    again = build_gallery(configs, out, jobs=1)
    assert set(statuses(again).values()) == {"skipped"}
    assert mtimes(out) == before
    assert {p: p.read_bytes() for p in out.rglob("*.json")} == sidecars

    forced = build_gallery(configs, out, jobs=1, force=True)
    assert set(statuses(forced).values()) == {"rendered"}
    for png in before:  # rendered again, to the same bytes
        assert (out / png).stat().st_mtime_ns >= before[png]

    (configs / "adam.yaml").write_text(GOOD["adam.yaml"].replace("steps: 5", "steps: 6"))
    changed = build_gallery(configs, out, jobs=1)
    assert statuses(changed) == {"adam.yaml": "rendered", "sub/sgd.yml": "skipped"}
    sidecar = json.loads((out / "adam.json").read_text())
    assert sidecar["config"]["steps"] == 6 and len(sidecar["data"]["runs"][0]["points"]) == 7

    # A PNG deleted by hand is rendered again even though its sidecar still matches.
    (out / "sub" / "sgd.png").unlink()
    healed = build_gallery(configs, out, jobs=1)
    assert statuses(healed)["sub/sgd.yml"] == "rendered"

    # New code (or a new optviz, torch or matplotlib) renders everything again.
    monkeypatch.setattr("optviz.gallery.build.code_hash", lambda: "code-2")
    upgraded = build_gallery(configs, out, jobs=1)
    assert set(statuses(upgraded).values()) == {"rendered"}


def test_two_configs_with_one_output_do_not_overwrite_each_other(tmp_path: Path) -> None:
    configs = write_configs(tmp_path / "configs", {
        "a.yaml": "optimizers: [adam]\nsteps: 3\n",
        "b.yaml": "optimizers: [sgd]\nsteps: 3\nlr: 0.1\noutput: a.png\n",
    })
    summary = build_gallery(configs, tmp_path / "out", jobs=1)
    assert statuses(summary) == {"a.yaml": "rendered", "b.yaml": "failed"}
    assert "also the output of" in summary.failed[0].reason


def test_refuses_to_overwrite_a_readme_it_did_not_write(tmp_path: Path) -> None:
    from optviz.errors import OutputError

    configs = write_configs(tmp_path / "configs", {"a.yaml": "optimizers: [adam]\nsteps: 3\n"})
    (tmp_path / "README.md").write_text("# my project\n")
    with pytest.raises(OutputError, match="not written by 'optviz gallery'"):
        build_gallery(configs, tmp_path, jobs=1)
    assert (tmp_path / "README.md").read_text() == "# my project\n"
    assert not (tmp_path / "a.png").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["gallery", "{tmp}/nowhere"], "config folder {tmp}/nowhere does not exist"),
    (["gallery", "{tmp}"], "no *.yaml or *.yml configs in {tmp}"),
    (["gallery", "{tmp}", "--jobs", "0"], "--jobs: must be >= 1"),
])
def test_cli_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"optviz: error: {message.format(tmp=tmp_path)}")
    assert len(result.stderr.splitlines()) == 1


def test_cli_runner(tmp_path: Path) -> None:
    configs = write_configs(tmp_path / "configs", {
        "adam.yaml": GOOD["adam.yaml"], "bad_steps.yaml": BAD["bad_steps.yaml"]})
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["gallery", str(configs), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    bad = configs / "bad_steps.yaml"
    assert result.stderr == f"optviz: error: 1 of 2 configs failed: {bad}:2 steps: must be >= 1\n"
    assert re.search(r"adam\.yaml\s+│\s+rendered", result.stdout)
    assert re.search(r"bad_steps\.yaml\s+│\s+failed", result.stdout)
    assert (out / "adam.png").is_file() and not (out / "bad_steps.png").exists()

    (configs / "bad_steps.yaml").unlink()
    again = CliRunner().invoke(app, ["gallery", str(configs), "-o", str(out), "--force"])
    assert again.exit_code == 0, again.output
    assert re.search(r"adam\.yaml\s+│\s+rendered", again.stdout)
    assert "1 rendered, 0 skipped, 0 failed" in again.stdout


def test_subprocess_exit_code_and_stderr(tmp_path: Path) -> None:
    write_configs(tmp_path / "configs", {
        "adam.yaml": GOOD["adam.yaml"], "bad_name.yaml": BAD["bad_name.yaml"]})
    proc = run_optviz(["gallery", "configs", "--out", "gallery", "--jobs", "1"], cwd=tmp_path,
                      timeout=120)
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("optviz: error: 1 of 2 configs failed: configs/bad_name.yaml"), last
    assert "nosuchoptimizer" in last
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "gallery" / "adam.png").is_file()
    assert "adam.png" in (tmp_path / "gallery" / "README.md").read_text()


def plateau_by_hand(metric: list[float], lr: float = 1e-3) -> list[float]:
    """torch's ReduceLROnPlateau (the plateau preset: factor 0.5, patience 3) stepped by hand
    after every optimizer step: the LR each step used."""
    import torch

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=3)
    lrs = []
    for value in metric:
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step(value)
    return lrs


def test_a_trace_metric_is_read_beside_its_config_and_its_bytes_are_hashed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("optviz.gallery.build.code_hash", lambda: "code-1")
    configs = write_configs(tmp_path / "configs", {
        "sub/plateau.yaml": "kind: schedule\nschedulers: [plateau]\nmetric: trace.csv\n",
        "adam.yaml": GOOD["adam.yaml"],
    })
    trace = configs / "sub" / "trace.csv"
    first = [1.0] * 2 + [0.5] * 30
    trace.write_text("loss\n" + "".join(f"{v}\n" for v in first))
    out = tmp_path / "gallery"
    monkeypatch.chdir(tmp_path)  # not the config's folder: the trace is found beside it
    summary = build_gallery(configs, out, jobs=1)
    assert statuses(summary) == {"adam.yaml": "rendered", "sub/plateau.yaml": "rendered"}
    data = json.loads((out / "sub" / "plateau.json").read_text())["data"]
    assert data["runs"][0]["lr"] == plateau_by_hand(first)
    assert build_gallery(configs, out, jobs=1).entries[0].status == "skipped"

    # A new trace, same config: only that figure renders again, from the new numbers.
    second = [1.0 / (i + 1) for i in range(32)]
    trace.write_text("loss\n" + "".join(f"{v}\n" for v in second))
    again = build_gallery(configs, out, jobs=1)
    assert statuses(again) == {"adam.yaml": "skipped", "sub/plateau.yaml": "rendered"}
    data = json.loads((out / "sub" / "plateau.json").read_text())["data"]
    assert data["runs"][0]["lr"] == plateau_by_hand(second)
    assert data["runs"][0]["lr"] != plateau_by_hand(first)

    # The trace gone: that figure fails with the file named, and is not skipped as unchanged.
    trace.unlink()
    gone = build_gallery(configs, out, jobs=1)
    entry = next(e for e in gone.entries if e.name == "sub/plateau.yaml")
    assert entry.status == "failed" and "trace.csv" in entry.reason


# -- robustness: unreadable configs, dead workers, Ctrl-C, parent death, leftovers ----------------

SLOW = "optimizers: ['sgd:lr=0.01']\nsteps: 400000\nfunction: quadratic\n"  # ~a minute
FAST = "optimizers: [adam]\nsteps: 3\nlr: 0.1\n"


def test_configs_that_cannot_even_be_read_fail_alone(tmp_path: Path) -> None:
    configs = write_configs(tmp_path / "configs", {
        "deep.yaml": "optimizers: [adam]\nsettings:\n  x: " + "[" * 5000 + "]" * 5000 + "\n",
        "nul.yaml": 'optimizers: [adam]\nsteps: 3\noutput: "a\\0b.png"\n',
        "good.yaml": FAST,
    })
    (configs / "latin1.yaml").write_bytes(b"title: caf\xe9\n")
    summary = build_gallery(configs, tmp_path / "out", jobs=1)
    assert statuses(summary) == {"deep.yaml": "failed", "good.yaml": "rendered",
                                 "latin1.yaml": "failed", "nul.yaml": "failed"}
    reasons = {e.name: e.reason for e in summary.failed}
    assert reasons["deep.yaml"] == f"{configs / 'deep.yaml'}:3: nested deeper than 50 levels"
    assert "cannot hold a NUL byte" in reasons["nul.yaml"]
    assert "not UTF-8" in reasons["latin1.yaml"]
    assert "good.png" in (tmp_path / "out" / "README.md").read_text()


def test_a_default_output_folder_that_is_a_symlink_out_is_refused(tmp_path: Path) -> None:
    configs = write_configs(tmp_path / "cfg", {"sub/x.yaml": FAST, "y.yaml": FAST})
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "sub").symlink_to(outside)
    summary = build_gallery(configs, out, jobs=1)
    assert statuses(summary) == {"sub/x.yaml": "failed", "y.yaml": "rendered"}
    assert "sub/x.png: leaves the gallery folder" in summary.failed[0].reason
    assert "symbolic link" in summary.failed[0].reason
    assert list(outside.iterdir()) == []


def test_a_worker_killed_mid_figure_fails_only_that_figure(tmp_path: Path) -> None:
    from optviz.gallery import workers

    outcomes: dict[int, object] = {}
    failures: dict[int, str] = {}
    pool = workers.WorkerPool(2, _noop, _suicide_on_negative)
    pool.map([1, -9, 2, 3, -1, 4], outcomes.__setitem__, failures.__setitem__)
    assert outcomes == {0: 2, 2: 4, 3: 6, 5: 8}  # every other job ran, on replaced workers
    assert failures == {1: "its worker process was killed by SIGKILL (out of memory?)",
                        4: "its worker process died (exit code 3; a crash in native code?)"}
    assert pool.workers == []


def _noop() -> None:
    pass


def _suicide_on_negative(job: int) -> int:
    """A job that kills its worker: SIGKILL as the out-of-memory killer does, or an exit."""
    import os
    import signal

    if job == -9:
        os.kill(os.getpid(), signal.SIGKILL)
    if job < 0:
        os._exit(3)
    return 2 * job


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren...: workers are forks of a forkserver the gallery started."""
    found, todo = [], [pid]
    while todo:
        children = _children(todo.pop())
        found += children
        todo += children
    return found


def _cpu(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])


def _alive(pids: list[int]) -> list[int]:
    import os

    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    del os
    return alive


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    import time

    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def _sigint_as_in_a_terminal() -> None:
    """In the child before it starts: Ctrl-C's default action, as a shell gives a program in
    the foreground. pytest-xdist's workers ignore SIGINT, and an ignored signal stays ignored
    across exec (Python then installs no KeyboardInterrupt, as for a background job), so
    without this the gallery would inherit whatever SIGINT disposition earlier tests left."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_gallery(tmp_path: Path, configs: dict[str, str], *extra: str) -> subprocess.Popen:
    write_configs(tmp_path / "configs", configs)
    return subprocess.Popen(
        [sys.executable, "-m", "optviz", "gallery", "configs", "--out", "out", *extra],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=_sigint_as_in_a_terminal)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_kills_workers_writes_the_index_and_exits_130(tmp_path: Path) -> None:
    import os
    import signal
    import time

    proc = _start_gallery(tmp_path, {"a.yaml": FAST, "b_slow.yaml": SLOW, "c_slow.yaml": SLOW,
                                     "d_slow.yaml": SLOW}, "--jobs", "2")
    try:
        _wait_for(lambda: (tmp_path / "out" / "a.json").exists()
                  and len(_descendants(proc.pid)) >= 3)  # forkserver, workers, tracker
        workers = _descendants(proc.pid)
        time.sleep(0.5)
        start = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: the whole group
        _, stderr = proc.communicate(timeout=15)
        assert time.monotonic() - start < 5
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    assert stderr.startswith("optviz: error: interrupted: 1 of 4 figures done"), stderr
    assert "Traceback" not in stderr
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "a.png" in readme and "b_slow" not in readme
    _wait_for(lambda: not _alive(workers), timeout=3)
    assert not list((tmp_path / "out").rglob("*.tmp"))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_die_with_their_parent(tmp_path: Path) -> None:
    """The gallery ended by SIGTERM mid-render (it handles no SIGTERM: the process just ends,
    as by SIGKILL, which ``test_a_worker_holding_the_gil_dies_at_once_with_a_killed_parent``
    sends to the same worker pool with a worker that cannot even run Python)."""
    import os
    import signal

    proc = _start_gallery(tmp_path, {"a_slow.yaml": SLOW, "b_slow.yaml": SLOW}, "--jobs", "2")
    try:
        # Two workers rendering (a tenth of a second of CPU each, past the forkserver's
        # imports, which they share), and the forkserver they were forked from.
        _wait_for(lambda: sum(_cpu(p) > 10 for p in _descendants(proc.pid)) >= 3)
        workers = _descendants(proc.pid)
        assert workers
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
        _wait_for(lambda: not _alive(workers), timeout=5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


def _ctrl_c_handler(job: int) -> str:
    import signal

    handler = signal.getsignal(signal.SIGINT)
    return "ignored" if handler is signal.SIG_IGN else getattr(handler, "__name__", str(handler))


def _collector(job: int) -> tuple[int, int]:
    import gc

    return gc.get_threshold()[0], gc.get_freeze_count()


def test_gallery_workers_ignore_ctrl_c_and_ranks_take_it_from_one_forkserver() -> None:
    """Workers forked from one forkserver take Ctrl-C their own pool's way, whichever pool
    started the forkserver: the gallery's ignore it, rank's get a KeyboardInterrupt."""
    from concurrent.futures import ProcessPoolExecutor

    from optviz.collector import GC_THRESHOLD
    from optviz.gallery import workers
    from optviz.processes import started, worker_context

    with ProcessPoolExecutor(1, mp_context=worker_context(), initializer=started,
                             initargs=(False,)) as pool:
        assert pool.submit(_ctrl_c_handler, 0).result() == "default_int_handler"
        # and each worker collects garbage as the console script does, its imports frozen
        threshold, frozen = pool.submit(_collector, 0).result()
        assert threshold == GC_THRESHOLD and frozen > 100_000
    outcomes: dict[int, object] = {}
    workers.WorkerPool(1, _noop, _ctrl_c_handler).map([0], outcomes.__setitem__, print)
    assert outcomes == {0: "ignored"}


def _hold_the_gil(job: int) -> int:
    """A job stuck in C with the GIL held (a Python thread in its worker cannot run)."""
    return sum(range(10 ** 13)) + job


_GIL_POOL = """
import sys
sys.path.insert(0, sys.argv[1])
from optviz.gallery.workers import WorkerPool
from test_gallery import _hold_the_gil, _noop
if __name__ == "__main__":
    WorkerPool(1, _noop, _hold_the_gil).map([0], print, print)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal")
def test_a_worker_holding_the_gil_dies_at_once_with_a_killed_parent(tmp_path: Path) -> None:
    """The forkserver ends with the process that asked for the workers (the workers close
    its 'alive' pipe), and the kernel then ends them: no Python thread has to run."""
    import os
    import signal
    import time

    script = tmp_path / "pool.py"
    script.write_text(_GIL_POOL)
    proc = subprocess.Popen([sys.executable, str(script), str(Path(__file__).parent)],
                            cwd=tmp_path, start_new_session=True)
    try:
        # The forkserver past its imports, and the worker spinning in sum().
        _wait_for(lambda: sum(_cpu(p) > 50 for p in _descendants(proc.pid)) >= 2)
        family = _descendants(proc.pid)
        time.sleep(0.5)
        start = time.monotonic()
        proc.kill()
        proc.wait(timeout=10)
        _wait_for(lambda: not _alive(family), timeout=5)
        assert time.monotonic() - start < 3
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


def test_stale_temporaries_of_killed_writers_are_removed(tmp_path: Path) -> None:
    configs = write_configs(tmp_path / "configs", {"a.yaml": FAST})
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    import os

    stale = [out / f".a.json.{dead}-x1y2.tmp", out / "sub" / f".b.png.{dead}-k9.tmp"]
    live = out / f".c.png.{os.getpid()}-zz.tmp"  # a writer still running: left alone
    foreign = out / ".notes.tmp"  # not ours
    for path in (*stale, live, foreign):
        path.write_bytes(b"x" * 100)
    build_gallery(configs, out, jobs=1)
    assert not any(p.exists() for p in stale)
    assert live.exists() and foreign.exists()


def test_a_folder_made_read_only_mid_run_still_prints_the_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import os

    from optviz.export import files
    from optviz.gallery import build as gallery_build

    configs = write_configs(tmp_path / "configs", {"a.yaml": FAST, "b.yaml": BAD["bad_steps.yaml"]})
    out = tmp_path / "out"
    render_pending, atomic_write = gallery_build._render_pending, files.atomic_write

    def then_read_only(*args: object, **kwargs: object) -> bool:
        interrupted = render_pending(*args, **kwargs)
        out.chmod(0o555)
        return interrupted

    def as_read_only(path: Path, data: object) -> Path:
        if os.geteuid() == 0:  # root writes into a read-only folder: fail as a user would
            raise files.OutputError(f"cannot write {path}: Permission denied")
        return atomic_write(path, data)

    monkeypatch.setattr(gallery_build, "_render_pending", then_read_only)
    monkeypatch.setattr(files, "atomic_write", as_read_only)
    from optviz.cli.gallery import print_summary

    try:
        summary = build_gallery(configs, out, jobs=1, report=print_summary)
    finally:
        out.chmod(0o755)
    printed = capsys.readouterr().out
    assert re.search(r"a\.yaml\s+│\s+rendered", printed)
    assert re.search(r"b\.yaml\s+│\s+failed", printed)
    flat = "".join(printed.split())  # rich wraps and folds long lines anywhere
    assert "indexnotwritten:cannotwrite" in flat
    assert "README.md:Permissiondenied" in flat
    with pytest.raises(GalleryError, match=r"^index not written: .*; 1 of 2 configs failed$"):
        summary.raise_if_failed()


def test_check_compares_bytes_and_lists_figures_out_of_step(tmp_path: Path) -> None:
    configs = write_configs(tmp_path / "configs", {"a.yaml": FAST, "b.yaml": FAST})
    out = tmp_path / "out"
    build_gallery(configs, out, jobs=1)
    # As a user types it (a worker pool) in step and out of step; the other checks render in
    # this process (--jobs 1), which compares the same way.
    check = ["gallery", str(configs), "--out", str(out), "--check"]
    ok = CliRunner().invoke(app, check)
    assert ok.exit_code == 0, ok.output
    assert "in step" in ok.stdout
    # A stale content hash alone (any edit of optviz's code changes it) is not out of step.
    sidecar = out / "a.json"
    sidecar.write_text(re.sub(r'"content_hash": "[0-9a-f]+"', '"content_hash": "0123"',
                              sidecar.read_text()))
    still = CliRunner().invoke(app, [*check, "--jobs", "1"])
    assert still.exit_code == 0, still.output
    png = (out / "b.png").read_bytes()
    (out / "b.png").write_bytes(png[:-20] + bytes(20))  # one byte of a picture is enough
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = CliRunner().invoke(app, check)
    assert bad.exit_code == 1
    assert bad.stdout == "b.yaml: b.png differ\n"
    assert "1 figure(s) out of step" in bad.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    # The interactive twin is compared too: a stale page beside a fresh picture is caught.
    twin = out / "a.html"
    twin.write_text(twin.read_text().replace("</body>", "<!-- edited --></body>"))
    stale = CliRunner().invoke(app, [*check, "--jobs", "1"])
    assert stale.exit_code == 1
    assert stale.stdout == "a.yaml: a.html differ\nb.yaml: b.png differ\n"
    twin.unlink()
    gone = CliRunner().invoke(app, [*check, "--jobs", "1"])
    assert gone.stdout.startswith(f"a.yaml: {(out / 'a.html').as_posix()} is missing\n")


# -- animations: GIF and MP4 ----------------------------------------------------------------------


VIDEO = ("optimizers: [adam, sgd]\nsteps: 6\nlr: 0.05\nfunction: valley\nfps: 10\n"
         "title: A valley video\noutput: motion/race.mp4\n")


def _mp4_frames(path: Path) -> list[np.ndarray]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    width, height = next(reader)["size"]
    return [np.frombuffer(f, dtype=np.uint8).reshape(height, width, 3) for f in reader]


def test_an_mp4_config_renders_into_a_video_element_and_a_readme_link(tmp_path: Path) -> None:
    configs = write_configs(tmp_path / "configs", {"race.yaml": VIDEO, "still.yaml": FAST})
    out = tmp_path / "out"
    summary = build_gallery(configs, out, jobs=1)
    assert statuses(summary) == {"race.yaml": "rendered", "still.yaml": "rendered"}
    video = out / "motion" / "race.mp4"
    frames = _mp4_frames(video)
    assert len(frames) == 7 + 10  # steps 0..6, then the last held for a second at 10 fps
    held = np.abs(frames[-1].astype(int) - frames[6]).mean()  # lossy: nearly the same
    moved = np.abs(frames[0].astype(int) - frames[6]).mean()  # the paths grow
    assert held < 0.5 < moved
    page = (out / "index.html").read_text()
    (tag,) = re.findall(r"<video [^>]*>", page)
    assert 'src="motion/race.mp4"' in tag
    assert set(re.findall(r" (muted|loop|autoplay|playsinline|controls)\b", tag)) == {
        "muted", "loop", "autoplay", "playsinline", "controls"}
    assert re.findall(r'<img src="([^"]+)"', page) == ["still.png"]  # the still stays an image
    readme = (out / "README.md").read_text()
    assert "[A valley video (MP4 video)](motion/race.mp4)" in readme
    assert "![A valley video]" not in readme  # Markdown images do not play videos
    # the same config, the same bytes: a second folder, and --check on the first
    build_gallery(configs, tmp_path / "again", jobs=1)
    assert (tmp_path / "again" / "motion" / "race.mp4").read_bytes() == video.read_bytes()
    check = CliRunner().invoke(app, ["gallery", str(configs), "--out", str(out), "--check"])
    assert check.exit_code == 0, check.output
    # the sidecar sits beside the video; an unchanged config is skipped next time
    assert json.loads((out / "motion" / "race.json").read_text())["config"]["fps"] == 10
    # (as the still is: both render again only if optviz's source changed meanwhile)
    again = statuses(build_gallery(configs, out, jobs=1))
    assert again["race.yaml"] == again["still.yaml"]


def test_an_output_of_another_suffix_is_refused_in_one_line(tmp_path: Path) -> None:
    configs = write_configs(tmp_path / "configs", {
        "x.yaml": "optimizers: [adam]\nsteps: 3\noutput: x.webm\n"})
    summary = build_gallery(configs, tmp_path / "out", jobs=1)
    (failed,) = summary.failed
    assert "PNG, GIF and MP4" in failed.reason and "\n" not in failed.reason
