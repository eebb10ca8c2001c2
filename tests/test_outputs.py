"""One write path for every kind and format: PNG, SVG and PDF by suffix, deterministic bytes
across processes, the config embedded in every picture and rendered back byte for byte, the
same report from a command and from a config, and the Python API equal to the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optviz.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
_ENV = {**os.environ, "COLUMNS": "200", "PYTHONHASHSEED": "0"}

# One small call per figure kind (and both layouts of the trajectory kind).
CALLS = {
    "trajectory": ["trajectory", "adam", "sgd:momentum=0.9", "--lr", "0.05", "--steps", "15"],
    "schedule": ["schedule", "step", "cosine", "--epochs", "2"],
    "sweep": ["sweep", "adam", "--lr", "1e-3:1:8", "--steps", "10"],
    "basin": ["basin", "sgd", "--lr", "0.01", "--grid", "6", "--steps", "5"],
}


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.mark.parametrize("kind", sorted(CALLS))
def test_svg_and_pdf_for_every_kind(kind: str, tmp_path: Path):
    svg, pdf = tmp_path / "f.svg", tmp_path / "f.pdf"
    for path in (svg, pdf):
        res = invoke(*CALLS[kind], "-o", str(path))
        assert res.exit_code == 0, res.output
        assert f"wrote {path}" in res.stdout
    root = ET.parse(svg).getroot()  # parses as XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    drawn = [p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("d")]
    assert len(drawn) > 20  # the curves and paths are vector paths, not one embedded image
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + \
        data.count(b"/Type /Page>") == 1


def test_an_unknown_suffix_is_one_line_listing_the_formats(tmp_path: Path):
    res = invoke("trajectory", "adam", "-o", str(tmp_path / "x.bmp"))
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert "\n" not in line and "'.bmp'" in line
    for suffix in (".png", ".svg", ".pdf"):
        assert suffix in line
    assert list(tmp_path.iterdir()) == []


def test_dpi_sets_the_png_size(tmp_path: Path, png_pixels):
    out = tmp_path / "s.png"
    assert invoke(*CALLS["schedule"], "-o", str(out), "--dpi", "60").exit_code == 0
    img = png_pixels(out)
    default = tmp_path / "d.png"
    assert invoke(*CALLS["schedule"], "-o", str(default)).exit_code == 0
    big = png_pixels(default)
    assert big.shape[1] == pytest.approx(img.shape[1] * 150 / 60, abs=2)


def test_png_svg_and_state_export_bytes_are_the_same_in_two_processes(tmp_path: Path):
    """A fresh process and this one (a pytest worker well into the suite), with different
    hash seeds, each write the PNG and the SVG of one call and the --show-state export of
    another: the same bytes. --show-state keys are recorded in order of first appearance,
    not a set's order, so the export (and a gallery sidecar) is the same in every process."""
    state = ["trajectory", "adam", "--lr", "0.1", "--steps", "5", "--show-state"]

    def calls(tag: str) -> list[list[str]]:
        out = [[*CALLS["trajectory"], "-o", str(tmp_path / f"run{tag}{suffix}")]
               for suffix in (".png", ".svg")]
        return [*out, [*state, "-o", str(tmp_path / f"s{tag}.png"),
                       "--export", str(tmp_path / f"s{tag}.json")]]

    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    lines = ["from optviz.cli import app", "print(hash('optviz'))"] + [
        f"app({call!r}, standalone_mode=False)" for call in calls("1")]
    proc = subprocess.run([sys.executable, "-c", "\n".join(lines)], cwd=tmp_path,
                          env={**_ENV, "PYTHONHASHSEED": seed}, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[0]) != hash("optviz")  # the two seeds differ
    for call in calls("2"):
        assert invoke(*call).exit_code == 0
    for name in ("run{}.png", "run{}.svg", "s{}.png", "s{}.json"):
        first, second = ((tmp_path / name.format(tag)).read_bytes() for tag in "12")
        assert first == second, name
    export = json.loads((tmp_path / "s1.json").read_text())
    assert list(export["runs"][0]["state"]) == [
        "‖exp_avg‖", "‖exp_avg_sq‖", "effective step (mean)"]


@pytest.mark.parametrize("kind", sorted(CALLS))
def test_a_picture_renders_itself_byte_for_byte(kind: str, tmp_path: Path):
    """Every PNG carries its config: ``optviz render picture.png`` draws it again, and
    ``optviz show picture.png`` prints that config."""
    first = tmp_path / "first.png"
    assert invoke(*CALLS[kind], "-o", str(first)).exit_code == 0
    again = tmp_path / "again.png"
    res = invoke("render", str(first), "-o", str(again))
    assert res.exit_code == 0, res.output
    assert again.read_bytes() == first.read_bytes()
    shown = invoke("show", str(first))
    assert shown.exit_code == 0, shown.output
    assert f"kind: {kind}" in shown.stdout
    # rendered without -o, a picture replaces itself, and says so
    before = first.read_bytes()
    res = invoke("render", str(first))
    assert res.exit_code == 0 and f"replaced {first}" in res.stdout
    assert first.read_bytes() == before


def test_an_svg_carries_its_config_too(tmp_path: Path):
    svg = tmp_path / "a.svg"
    assert invoke(*CALLS["trajectory"], "-o", str(svg)).exit_code == 0
    png = tmp_path / "a.png"
    assert invoke("render", str(svg), "-o", str(png)).exit_code == 0
    direct = tmp_path / "b.png"
    assert invoke(*CALLS["trajectory"], "-o", str(direct)).exit_code == 0
    assert png.read_bytes() == direct.read_bytes()


def test_a_picture_without_a_config_is_one_clear_line(tmp_path: Path):
    from matplotlib.figure import Figure

    plain = tmp_path / "plain.png"
    Figure().savefig(plain)
    res = invoke("render", str(plain))
    assert res.exit_code == 2 and "carries no optviz config" in res.stderr
    export = tmp_path / "e.json"
    assert invoke(*CALLS["sweep"], "-o", str(tmp_path / "s.png"), "--export",
                  str(export)).exit_code == 0
    res = invoke("render", str(export))
    assert res.exit_code == 2 and "holds no config" in res.stderr


@pytest.mark.parametrize("kind", ["sweep", "basin"])
def test_dump_config_renders_the_same_bytes(kind: str, tmp_path: Path):
    direct = tmp_path / "direct.png"
    assert invoke(*CALLS[kind], "-o", str(direct)).exit_code == 0
    dumped = invoke(*CALLS[kind], "--dump-config")
    assert dumped.exit_code == 0 and dumped.stdout.startswith(f"kind: {kind}\n")
    config = tmp_path / "c.yaml"
    config.write_text(dumped.stdout)
    via = tmp_path / "via.png"
    assert invoke("render", str(config), "-o", str(via)).exit_code == 0
    assert via.read_bytes() == direct.read_bytes()


def test_render_of_a_schedule_config_prints_the_same_lint_warnings(tmp_path: Path):
    call = ["schedule", "onecycle", "--epochs", "4"]  # plain SGD: momentum cycling is lint
    direct = invoke(*call, "-o", str(tmp_path / "a.png"))
    assert direct.exit_code == 0
    warnings = [line for line in direct.stderr.splitlines() if "warning" in line]
    assert warnings
    config = tmp_path / "c.yaml"
    config.write_text(invoke(*call, "--dump-config").stdout)
    via = invoke("render", str(config), "-o", str(tmp_path / "b.png"))
    assert via.exit_code == 0
    assert [line for line in via.stderr.splitlines() if "warning" in line] == warnings


def test_the_sidecar_of_a_gallery_figure_renders_it(tmp_path: Path):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "a.yaml").write_text("optimizers: [adam]\nlr: 0.1\nsteps: 12\n")
    out = tmp_path / "gallery"
    assert invoke("gallery", str(configs), "--out", str(out), "--jobs", "1").exit_code == 0
    again = tmp_path / "again.png"
    res = invoke("render", str(out / "a.json"), "-o", str(again))
    assert res.exit_code == 0, res.output
    assert again.read_bytes() == (out / "a.png").read_bytes()


def test_export_and_image_appear_together_or_not_at_all(tmp_path: Path, monkeypatch):
    """Both files are made first and renamed together: a failure writing the export leaves
    the image that was there untouched."""
    import optviz.export.files as files

    image, export = tmp_path / "a.png", tmp_path / "a.json"
    image.write_bytes(b"old")
    real = files.os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if str(dst).endswith(".json"):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", failing_replace)
    from optviz.figures.write import write_figure
    from optviz.spec.figures import TrajectorySpec, build

    spec = build(TrajectorySpec, {"optimizers": ["adam"], "steps": 5, "output": str(image),
                                  "export": str(export)})
    with pytest.raises(Exception, match="No space left"):
        write_figure(spec)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]
    assert image.read_bytes() == b"old" or calls[0] == image  # renamed in order: png first


def test_api_data_equals_the_cli_export(tmp_path: Path):
    import optviz

    export = tmp_path / "t.json"
    assert invoke("trajectory", "adam", "rmsprop", "-f", "rosenbrock", "--lr", "0.01",
                  "--steps", "30", "-o", str(tmp_path / "t.png"), "--export",
                  str(export)).exit_code == 0
    pic = optviz.trajectory("adam", "rmsprop", function="rosenbrock", lr=0.01, steps=30)
    assert pic.data == json.loads(export.read_text())
    export = tmp_path / "s.json"
    assert invoke(*CALLS["sweep"], "-o", str(tmp_path / "s.png"), "--export",
                  str(export)).exit_code == 0
    pic = optviz.sweep("adam", lr="1e-3:1:8", steps=10)
    assert pic.data == json.loads(export.read_text())
    export = tmp_path / "c.json"
    assert invoke(*CALLS["schedule"], "-o", str(tmp_path / "c.png"), "--export",
                  str(export)).exit_code == 0
    pic = optviz.schedule("step", "cosine", epochs=2)
    assert pic.data == json.loads(export.read_text())
    export = tmp_path / "b.json"
    assert invoke(*CALLS["basin"], "-o", str(tmp_path / "b.png"), "--export",
                  str(export)).exit_code == 0
    pic = optviz.basin("sgd", lr=0.01, grid=6, steps=5)
    assert pic.data == json.loads(export.read_text())


def test_api_picture_saves_shows_and_round_trips(tmp_path: Path, png_pixels):
    from matplotlib.figure import Figure

    import optviz

    pic = optviz.trajectory("adam", lr=0.1, steps=20)
    assert isinstance(pic.figure, Figure)
    assert pic.config["optimizers"][0]["name"] == "adam" and pic.config["steps"] == 20
    png = pic._repr_png_()
    assert png_pixels(png).shape[2] == 3
    saved = pic.save(tmp_path / "p.png")
    cli = tmp_path / "c.png"
    assert invoke("trajectory", "adam", "--lr", "0.1", "--steps", "20", "-o",
                  str(cli)).exit_code == 0
    assert saved.read_bytes() == cli.read_bytes()
    again = optviz.render(pic.config)
    assert again.data == pic.data
    assert optviz.render(str(saved)).data == pic.data
    assert optviz.render("kind: ema\npoints: 5\nbetas: [0.5]\n").data["weights"] == \
        [[0.5, 0.25, 0.125, 0.0625, 0.03125]]


def test_api_errors_are_the_cli_errors():
    import optviz

    with pytest.raises(optviz.OptvizError, match="did you mean steps"):
        optviz.trajectory("adam", stpes=10)
    with pytest.raises(optviz.OptvizError, match=r"unknown optimizer 'adamm'.*adam"):
        optviz.trajectory("adamm")
    with pytest.raises(optviz.OptvizError, match="unknown format"):
        optviz.trajectory("adam", steps=3).save("x.bmp")


def test_readme_api_example_runs(tmp_path: Path, monkeypatch):
    """The README's Python example, exactly as written."""
    text = (ROOT / "README.md").read_text()
    start = text.index("## Python API")
    block = text[text.index("```python", start) + len("```python"):]
    code = block[:block.index("```")]
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert (tmp_path / "rosenbrock.svg").read_bytes().startswith(b"<?xml")
    pic = scope["pic"]
    assert pic.data["runs"][1]["label"].startswith("SGD")


def test_version_and_bare_command():
    from optviz.version import __version__

    res = invoke("--version")
    assert res.exit_code == 0 and res.stdout.strip() == f"optviz {__version__}"
    proc = subprocess.run([sys.executable, "-m", "optviz"], capture_output=True, text=True,
                          env=_ENV)
    assert proc.returncode == 0
    assert "Usage: optviz" in proc.stdout and proc.stderr == ""


