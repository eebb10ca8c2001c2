"""The one path from a spec to files: compute, draw, encode by suffix, write the image and the
export whole or not at all, and say what happened. Every command, config, the gallery and
the Python API go through ``render_figure`` and ``write_figure``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optviz.export.data import check_format, export_text
from optviz.export.files import atomic_write_all, check_writable
from optviz.figures.kind import Computed, FigureKind
from optviz.figures.kinds import kind_of
from optviz.figures.outputs import check_suffix, output_bytes
from optviz.hooks import Hooks

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class Rendered:
    """A figure computed and drawn, in memory: the figure, the data an export holds, and what
    the report says."""

    spec: Any
    kind: FigureKind
    computed: Computed
    hooks: Hooks = field(default_factory=Hooks)  # outputs that compute more (the explorer)

    @cached_property
    def figure(self) -> Figure:
        return self.kind.draw(self.computed, self.spec)

    @property
    def result(self) -> Any:
        return self.computed.result

    @property
    def data(self) -> dict[str, Any]:
        """Exactly what ``--export x.json`` writes."""
        return self.computed.data

    def config_text(self) -> str:
        """The resolved config as YAML, without where it is written: what a picture embeds so
        that it can be rendered again from itself."""
        from optviz.config import dump_yaml

        return dump_yaml(self.spec.model_copy(update={"output": None, "export": None}))

    def image_bytes(self, suffix: str = ".png", dpi: int | None = None) -> bytes:
        """The figure as the bytes of a file of any output format (PNG, SVG, PDF, and the
        animated and interactive ones), with the config embedded where the format allows."""
        return output_bytes(self, suffix, dpi)

    @property
    def png(self) -> bytes:
        return self.image_bytes(".png")


@dataclass
class Written:
    """What a write did, for the report: the rendered figure, the files, the ones replaced."""

    rendered: Rendered
    image: Path
    export: Path | None
    replaced: list[Path] = field(default_factory=list)

    @property
    def result(self) -> Any:
        return self.rendered.result


def render_figure(spec: Any, hooks: Hooks | None = None) -> Rendered:
    """Any figure spec, computed (the figure is drawn on first use), with nothing written."""
    kind = kind_of(spec)
    hooks = hooks or Hooks()
    return Rendered(spec, kind, kind.compute(spec, hooks), hooks)


def default_name(spec: Any) -> Path:
    """The file a spec without ``output`` writes: ``trajectory_quadratic_adam.png``."""
    animated = getattr(spec, "animate", False)  # animate: true writes a GIF by default
    return Path(kind_of(spec).stem(spec) + (".gif" if animated else ".png"))


def output_paths(spec: Any) -> tuple[Path, Path | None]:
    """The image and export a spec writes, checked before any work: a known image format, a
    known export format, places that can be written."""
    image = Path(spec.output) if spec.output else default_name(spec)
    export = Path(spec.export) if spec.export else None
    check_suffix(image)
    check_writable(image)
    if export is not None:
        check_format(export)
        check_writable(export)
    return image, export


def write_figure(spec: Any, hooks: Hooks | None = None, dpi: int | None = None) -> Written:
    """Run, draw and write any figure (and its export, if the spec asks for one). Every file's
    bytes are made before any is written, and all are renamed into place together."""
    image, export = output_paths(spec)
    rendered = render_figure(spec, hooks)
    files = {image: rendered.image_bytes(image.suffix, dpi)}
    if export is not None:
        files[export] = export_text(rendered.result, export)
    replaced = [p for p in files if p.exists()]
    atomic_write_all(files)
    return Written(rendered, image, export, replaced)
