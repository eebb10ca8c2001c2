"""Animated outputs (GIF through Pillow, MP4 through imageio-ffmpeg's own ffmpeg) and the still
pictures of the motion options (the 3-D view, vectors at chosen steps).

Both encoders are deterministic: the same config gives the same bytes. The GIF uses one
palette for every frame (taken from the first and last frames), no dithering, and carries the
resolved config in its comment; the MP4 is encoded single-threaded with ffmpeg's bit-exact
flags and no metadata.
"""

from __future__ import annotations

import io
import itertools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optviz.errors import BadValueError
from optviz.figures.kind import Computed

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from optviz.figures.write import Rendered

ANIMATION_DPI = 72  # frames are screen pixels: 13 x 5.8 in -> 936 x 418
TURN_DEGREES = 90.0  # --rotate: the camera turns this far over the animation
TRANSPARENT = 255  # the GIF palette's index for "unchanged from the previous frame"


def _results(computed: Computed) -> list[Any]:
    return [drawn for _, drawn, _, _ in computed.draw_inputs["panels"]]


def draw_still(computed: Computed, spec: Any, draw_2d: Callable[[Computed, Any], Figure]
               ) -> Figure:
    """A still with the motion options: the 3-D view, or the 2-D figure with the optimizer's
    vectors at ``vectors_at`` (with ``vectors`` alone: at the start and each quarter)."""
    from optviz.render.animate import paths_in
    from optviz.render.vectors import draw_vectors_at

    if spec.view == "3d":
        from optviz.render.surface3d import panels3d_figure, surface3d_figure

        items = computed.draw_inputs["panels"]
        if spec.layout != "panels":
            _, drawn, grid, _ = items[0]
            fig = surface3d_figure(drawn, grid)
            if spec.title:
                fig.suptitle(spec.title, fontsize=13)
        else:
            rows, cols = spec.grid()
            fig = panels3d_figure(items, rows, cols, spec.title)
        if not (spec.vectors or spec.vectors_at):
            return fig
    else:
        fig = draw_2d(computed, spec.model_copy(update={"vectors_at": None, "vectors": False}))
    results = _results(computed)
    at = spec.vectors_at or _quarters(max(r.steps for r in results))
    for path in paths_in(fig, results):
        if path.run.vectors:
            draw_vectors_at(path.lines[0].axes, path.run, path.lines[0].get_color(),
                            [k for k in at if k < path.run.steps], path.zs)
    return fig


def _quarters(steps: int) -> list[int]:
    return sorted({0, steps // 4, steps // 2, 3 * steps // 4} - {steps})


def _animator(rendered: Rendered, dpi: int | None) -> tuple[Any, list[int]]:
    from optviz.render.animate import Animator, frame_steps

    spec = rendered.spec
    if getattr(spec, "kind", None) != "trajectory":
        raise BadValueError(f"{spec.kind} figures are stills: write .png, .svg or .pdf "
                            f"(animations are of trajectories)")
    still = spec.model_copy(update={"vectors_at": None, "vectors": False})
    computed = rendered.computed
    if spec.zoom and spec.layout != "panels" and spec.view != "3d":
        computed, still = _fitted(computed), still.model_copy(update={"zoom": False})
    fig = rendered.kind.draw(computed, still)
    results = _results(computed)
    animator = Animator(fig, results, dpi or ANIMATION_DPI, vectors=spec.vectors,
                        rotate=spec.rotate and spec.view == "3d")
    return animator, frame_steps(animator.steps, spec.frames)


def _fitted(computed: Computed) -> Computed:
    """An overlay's inputs drawn in a view fitted to its paths (``zoom`` in an animation):
    the start, every point and the minimum nearest the end, as zoom's grid panels choose
    theirs, over a surface sampled there; no inset. The frames then show where the paths
    move, not the whole domain around them."""
    from dataclasses import replace

    from optviz.figures.surfaces import surface_for
    from optviz.render.trajectory import fitted_view

    title, drawn, grid, view = computed.draw_inputs["panels"][0]
    if drawn.dim != 2 or drawn.problem is not None:
        return computed
    grid, view = surface_for(drawn, fitted_view(drawn))
    return replace(computed, draw_inputs={**computed.draw_inputs,
                                          "panels": [(title, drawn, grid, view)],
                                          "insets": [None]})


def _frames(rendered: Rendered, dpi: int | None) -> Iterator[np.ndarray]:
    animator, steps = _animator(rendered, dpi)
    turn = TURN_DEGREES / max(1, len(steps) - 1)
    return animator.frames(steps, turn)


def write_gif(rendered: Rendered, dpi: int | None) -> bytes:
    """The animation as a looping GIF: ``fps`` frames a second, the last held for a second."""
    import numpy as np
    from PIL import Image

    from optviz.render.animate import PAUSE_S

    spec = rendered.spec
    animator, steps = _animator(rendered, dpi)
    frames = list(animator.frames(steps, TURN_DEGREES / max(1, len(steps) - 1)))
    palette = _palette(frames, animator.colours())
    # Each frame after the first keeps only the pixels that changed; the rest are the
    # transparent index, drawn over the previous frame (disposal 1), which LZW packs tightly.
    indices = [np.asarray(Image.fromarray(f).quantize(palette=palette,
                                                      dither=Image.Dither.NONE))
               for f in frames]
    images = [Image.fromarray(indices[0], mode="P")]
    for before, now in itertools.pairwise(indices):
        delta = np.where(now == before, TRANSPARENT, now).astype(np.uint8)
        images.append(Image.fromarray(delta, mode="P"))
    for image in images:
        image.putpalette(palette.getpalette())
    step_ms = round(1000 / spec.fps)
    durations = [step_ms] * len(images)
    durations[-1] += round(1000 * PAUSE_S)
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:],
                   duration=durations, loop=0, optimize=False, disposal=1,
                   transparency=TRANSPARENT,
                   comment=rendered.config_text().encode())
    return out.getvalue()


def _palette(frames: list[np.ndarray], reserved: list[tuple[int, int, int]]) -> Any:
    """One palette for every frame: the exact colours of what moves (paths, heads, arrows:
    a few pixels each, which a median cut of the whole picture merges into their neighbours,
    a red arrow turning brown), then a median cut of the first and last frames for the rest;
    index 255 stays free for "unchanged"."""
    import numpy as np
    from PIL import Image

    reserved = list(dict.fromkeys(reserved))[:64]
    both = Image.fromarray(np.concatenate([frames[0], frames[-1]], axis=0))
    cut = both.quantize(colors=TRANSPARENT - len(reserved), method=Image.Quantize.MEDIANCUT,
                        dither=Image.Dither.NONE)
    colours = cut.getpalette()[:3 * (TRANSPARENT - len(reserved))]
    colours += [c for rgb in reserved for c in rgb]
    colours += colours[:3] * (256 - len(colours) // 3)  # the spare index repeats entry 0
    palette = Image.new("P", (1, 1))
    palette.putpalette(colours)
    return palette


def write_mp4(rendered: Rendered, dpi: int | None) -> bytes:
    """The animation as H.264 MP4 (yuv420p, frames padded white to a multiple of 16 pixels),
    the last frame held for a second."""
    import imageio_ffmpeg
    import numpy as np

    from optviz.render.animate import PAUSE_S

    spec = rendered.spec
    frames = _frames(rendered, dpi)
    first = next(frames)
    h, w = first.shape[:2]
    H, W = -(-h // 16) * 16, -(-w // 16) * 16

    def padded(frame: np.ndarray) -> bytes:
        out = np.full((H, W, 3), 255, dtype=np.uint8)
        out[:h, :w] = frame
        return out.tobytes()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "animation.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(path), (W, H), fps=spec.fps, codec="libx264", quality=7,
            macro_block_size=16, ffmpeg_log_level="error",
            output_params=["-fflags", "+bitexact", "-flags:v", "+bitexact",
                           "-map_metadata", "-1", "-threads", "1"])
        writer.send(None)
        last = first
        writer.send(padded(first))
        for frame in frames:
            writer.send(padded(frame))
            last = frame
        for _ in range(round(spec.fps * PAUSE_S)):
            writer.send(padded(last))
        writer.close()
        return path.read_bytes()


def check_motion(spec: Any, dim: int, steps: int) -> None:
    """What the motion options need, checked before anything runs: a 3-D view needs a surface
    (two coordinates), vectors are drawn at steps the run takes."""
    if spec.view == "3d" and dim != 2:
        raise BadValueError(f"--view 3d draws a surface: {spec.function} has {dim} "
                            f"coordinate(s), and needs 2")
    for k in spec.vectors_at or []:
        if not 0 <= k < steps:
            raise BadValueError(f"--vectors-at {k}: the run's steps are 0 to {steps - 1}")
