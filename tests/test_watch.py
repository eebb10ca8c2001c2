"""``--watch``: a short-lived watch (stopping after N renders) driven by file writes: the config
and a trace file it reads trigger renders, other files do not, a bad edit is one line and the
loop goes on, and the picture on disk follows the config."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from optviz.cli.watch import config_files, watch_config, watch_gallery
from optviz.errors import BadValueError

CONFIG = "kind: trajectory\noptimizers: [sgd]\nfunction: quadratic\nsteps: {steps}\nlr: 0.01\n"


class Writer:
    """After render k (1-based) has finished, writes ``texts[k - 1]`` to ``path``, again every
    1.5 s while no new render starts (a watcher needs a moment before it sees events)."""

    def __init__(self, path: Path, texts: list[str]):
        self.path, self.texts = path, texts
        self.started = self.finished = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        written_for = 0
        last = 0.0
        while not self.done.wait(0.1):
            k = self.finished
            if k == 0 or k != self.started or k - 1 >= len(self.texts):
                continue
            if written_for != k or time.monotonic() - last > 1.5:
                self.path.write_text(self.texts[k - 1])
                written_for, last = k, time.monotonic()


def run_watch(target, tmp_path: Path, renders: int, write: Path, texts: list[str]):
    seen: list[str] = []
    lines: list[str] = []
    writer = Writer(write, texts)

    def render() -> None:
        writer.started += 1
        seen.append(write.read_text())
        try:
            target()
        finally:
            writer.finished += 1

    stop = threading.Event()
    timer = threading.Timer(90, stop.set)  # a failing watch must not hang the suite
    timer.start()
    writer.thread.start()
    try:
        count = watch_config(tmp_path / "fig.yaml", render, renders=renders, stop=stop,
                             echo=lambda text, err=False: lines.append(text))
    finally:
        writer.done.set()
        timer.cancel()
    return count, seen, lines


def test_the_config_changing_renders_again(tmp_path, png_pixels, monkeypatch):
    from optviz.cli.render import render_cmd

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "fig.yaml"
    config.write_text(CONFIG.format(steps=5))
    out = tmp_path / "fig.png"

    def target() -> None:
        render_cmd(config, out, None, False, None, False)

    count, seen, lines = run_watch(target, tmp_path, 2, config, [CONFIG.format(steps=40)])
    assert count == 2
    assert [("steps: 5" in s, "steps: 40" in s) for s in seen] == [(True, False), (False, True)]
    assert lines[-1].startswith("fig.yaml changed: rendered in ")
    from optviz.config import embedded_config

    assert "steps: 40" in embedded_config(out)


def test_a_trace_file_the_config_reads_is_watched_and_others_are_not(tmp_path):
    trace = tmp_path / "loss.csv"
    trace.write_text("loss\n1\n0.9\n0.8\n")
    config = tmp_path / "fig.yaml"
    config.write_text("kind: schedule\nschedulers: [ReduceLROnPlateau]\nmetric: loss.csv\n"
                      "epochs: 3\n")
    files = config_files(config)
    assert files == {config.resolve(), trace.resolve()}
    (tmp_path / "other.csv").write_text("loss\n1\n")
    assert (tmp_path / "other.csv").resolve() not in files


def test_a_trace_change_renders_and_a_bad_edit_is_one_line(tmp_path):
    trace = tmp_path / "loss.csv"
    trace.write_text("loss\n1\n0.9\n0.8\n")
    config = tmp_path / "fig.yaml"
    config.write_text("kind: schedule\nschedulers: [ReduceLROnPlateau]\nmetric: loss.csv\n"
                      "epochs: 3\n")
    calls = []

    def target() -> None:
        calls.append(trace.read_text())
        if len(calls) == 2:
            raise BadValueError("fig.yaml:2 something is wrong")

    count, _, lines = run_watch(target, tmp_path, 3, trace,
                                ["loss\n1\n0.5\n0.4\n", "loss\n1\n0.5\n0.1\n"])
    assert count == 3
    assert calls == ["loss\n1\n0.9\n0.8\n", "loss\n1\n0.5\n0.4\n", "loss\n1\n0.5\n0.1\n"]
    assert "optviz: error: fig.yaml:2 something is wrong" in lines
    assert any(line.startswith("loss.csv changed: failed after") for line in lines)
    assert lines[-1].startswith("loss.csv changed: rendered in ")


def test_gallery_watch_rebuilds_on_a_config_change(tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    config = folder / "a.yaml"
    config.write_text(CONFIG.format(steps=5))
    builds = []
    stop = threading.Event()

    def build() -> None:
        builds.append(config.read_text())
        if len(builds) == 1:
            threading.Thread(target=lambda: (time.sleep(0.6), (folder / "notes.md").write_text(
                "x"), time.sleep(0.4), config.write_text(CONFIG.format(steps=9))),
                             daemon=True).start()

    timer = threading.Timer(60, stop.set)
    timer.start()
    try:
        count = watch_gallery(folder, build, renders=2, stop=stop, echo=lambda *a, **k: None)
    finally:
        timer.cancel()
    assert count == 2 and "steps: 9" in builds[1]


@pytest.mark.parametrize("flag", ["--watch"])
def test_the_flag_is_on_render_and_gallery(flag):
    from typer.testing import CliRunner

    from optviz.cli import app

    for command in ("render", "gallery"):
        res = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert flag in res.output
