"""The one path from a spec to files: compute, draw, encode by suffix, write the image and the
export whole or not at all, and say what happened. Every command, config, the gallery and
the Python API go through ``render_figure`` and ``write_figure``."""

from __future__ import annotations

import hashlib
import json
import re
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


# Keys the kind's stem already spells (the command, the function, the names), and keys that do
# not change the picture's content (where it is written; animate is said by the suffix).
_IN_STEM = ("kind", "function", "model", "output", "export", "animate")
_NAMED = ("optimizers", "optimizer", "schedulers")
MAX_NAME = 100


def _token(key: str, value: Any) -> str | None:
    """A setting as a short, file-safe token (``lr0.1``, ``show-state``, ``start-1.0x2.0``);
    None when it has no short exact form (text with odd characters, mappings, nesting)."""
    key = key.replace("_", "-")
    if isinstance(value, bool):
        return key if value else f"no-{key}"
    if isinstance(value, (int, float)):
        return f"{key}{value!r}"
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9.]+", value):
        return f"{key}-{value}"
    if isinstance(value, dict) and value:  # settings for every optimizer: settings-momentum0.9
        parts = [_token(k, v) for k, v in value.items()]
        return None if None in parts else "-".join([key, *parts])  # type: ignore[list-item]
    if isinstance(value, list) and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return key + "x".join(repr(v) for v in value)
    return None


def _named_token(value: Any) -> str | None:
    """Optimizers or schedulers with their own settings: ``gd-lr0.125+gd-lr0.2``."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict):
            return None
        rest = {k: v for k, v in item.items() if k != "name"}
        rest.update(rest.pop("settings", None) or {})
        parts = [_token(k, v) for k, v in rest.items()]
        if None in parts:
            return None
        out.append("-".join([str(item.get("name")), *parts]))  # type: ignore[list-item]
    return "+".join(out)


def default_name(spec: Any) -> Path:
    """The file a spec without ``output`` writes, unique per picture: the kind's stem
    (``trajectory_quadratic_adam``), then every key that differs from its default, each an
    exact short token (``_adam-lr0.1_show-state``). When a key has no short form or the name
    would pass MAX_NAME characters, a hash of all of them stands in their place
    (``trajectory_quadratic_panels_3f9a1c2e``). animate: true writes a GIF by default."""
    stem = kind_of(spec).stem(spec)
    data = spec.model_dump(mode="json", exclude_defaults=True)
    tokens: list[str | None] = []
    for key, value in data.items():
        if key in _IN_STEM:
            continue
        if key not in _NAMED:
            tokens.append(_token(key, value))
            continue
        items = value if isinstance(value, list) else [value]
        names = "+".join(str(i.get("name")) if isinstance(i, dict) else "?" for i in items)
        if any(isinstance(i, dict) and set(i) - {"name"} for i in items):
            # The stem ends with the bare names: they give way to the names with settings.
            if stem.endswith(names):
                stem = stem[:-len(names)].rstrip("_")
            tokens.append(_named_token(value))
    name = "_".join([stem, *tokens]) if None not in tokens else ""
    if not name or len(name) > MAX_NAME or len(stem) >= 120:
        picture = {k: v for k, v in data.items() if k not in ("output", "export", "animate")}
        digest = hashlib.sha256(json.dumps(picture, sort_keys=True).encode()).hexdigest()[:8]
        name = f"{stem[:MAX_NAME - 9]}_{digest}"
    return Path(name + (".gif" if getattr(spec, "animate", False) else ".png"))


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
