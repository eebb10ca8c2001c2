"""``optviz render``: a config's own output paths stay in the folder it is rendered in; the
command line's -o and --export write anywhere, and the export equals the picture's run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optviz.cli import app

runner = CliRunner()


@pytest.mark.parametrize(("key", "value", "flag"), [
    ("output", "../escaped.png", "-o"),
    ("output", "/tmp/optviz-escaped.png", "-o"),
    ("export", "../escaped.json", "--export"),
    ("export", "sub/../../escaped.csv", "--export"),
])
def test_a_config_cannot_write_outside_the_folder(key, value, flag, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "c.yaml").write_text(f"optimizers: [adam]\nsteps: 3\n{key}: {value}\n")
    res = runner.invoke(app, ["render", "c.yaml"])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"optviz: error: c.yaml: {key} {value!r} must be a path inside the current folder; "
        f"give {flag} to write elsewhere")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["c.yaml", "work"]


def test_flags_write_anywhere_and_the_export_is_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(
        "optimizers: ['gd:lr=0.1']\nsteps: 4\noutput: ../nope.png\nexport: /tmp/nope.json\n")
    out = tmp_path / "elsewhere"
    out.mkdir()
    res = runner.invoke(app, ["render", "c.yaml", "-o", str(out / "a.png"),
                              "--export", str(out / "a.json")])
    assert res.exit_code == 0, res.output
    points = json.loads((out / "a.json").read_text())["runs"][0]["points"]
    # GD with lr 0.1 on x² + 10y² from (4, 3): x *= 0.8, y *= -1 each step
    want = [v for k in range(5) for v in (4 * 0.8**k, 3 * (-1) ** k)]
    assert [v for p in points for v in p] == pytest.approx(want, rel=1e-6)
    assert (out / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not Path("/tmp/nope.json").exists()
