"""The interactive HTML page of a figure: plain data in (from ``optviz.figures.explore``), one
self-contained page out, drawn by plotly.js in the browser.

plotly.js comes from the plotly Python package (no network): inlined, gzip-compressed and
base64-encoded (4.8 MB of JavaScript would leave no room for the data in a 5 MB page; the
browser's own DecompressionStream unpacks it), or, in the gallery, one shared ``plotly.min.js``
beside the pages. Number arrays travel as base64 of little-endian float32/float64, so the page
reads back exactly the values the run produced. The bytes are deterministic: fixed element
ids, no dates, gzip without a time stamp.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import posixpath
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from optviz.render.style import colours_for


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js as the plotly Python package ships it for offline use."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@lru_cache(maxsize=1)
def _plotly_packed() -> str:
    return base64.b64encode(gzip.compress(plotly_js().encode("utf-8"), compresslevel=9,
                                          mtime=0)).decode("ascii")


def _encode(value: Any, single: bool) -> Any:
    """Arrays as ``{"b64", "dtype", "shape"}`` (float32 where ``single``), non-finite floats
    as null; everything else as it is."""
    if isinstance(value, np.ndarray):
        kind = "<f4" if single else "<f8"
        array = np.ascontiguousarray(value, dtype=kind)
        return {"b64": base64.b64encode(array.tobytes()).decode("ascii"),
                "dtype": "f4" if single else "f8", "shape": list(array.shape)}
    if isinstance(value, dict):
        return {k: _encode(v, single or k in ("surface", "z")) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, single) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _encode(value.item(), single)
    return value


def page_data(data: dict[str, Any]) -> dict[str, Any]:
    """The data as the page holds it: colours per run, arrays encoded."""
    data = dict(data)
    if data["kind"] == "trajectory":
        colours = colours_for([r["optimizer"] for r in data["runs"]])
        single = data.get("dtype") == "float32"
        data["runs"] = [{**_encode(r, single), "colour": c}
                        for r, c in zip(data["runs"], colours, strict=True)]
    elif data["kind"] == "schedule":
        colours = colours_for([s["name"] for s in data["schedulers"]])
        data["schedulers"] = [{"colour": c, **s}  # a colour the figure chose is kept
                              for s, c in zip(data["schedulers"], colours, strict=True)]
    elif data["kind"] in ("sweep", "basin"):
        data["colour"] = colours_for([data.get("optimizer") or data["label"]])[0]
    return _encode(data, False)


def _json_script(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    # Inside <script> only "</" can end the element early; "<\/" reads the same in JSON.
    return text.replace("</", "<\\/")


def page(data: dict[str, Any], plotly_src: str | None = None) -> str:
    """The whole page. ``plotly_src``: a relative URL of a shared plotly.js file instead of
    the inlined library."""
    title = html.escape(str(data.get("title") or "optviz"))
    if plotly_src is None:
        library = (f'<script type="application/octet-stream" id="optviz-plotly-gz">'
                   f"{_plotly_packed()}</script>")
        style, app = f"<style>\n{_CSS}\n</style>", f"<script>\n{_APP}\n</script>"
    else:
        def beside(name: str) -> str:  # a shared file's URL: beside the shared plotly.js
            return html.escape(posixpath.join(posixpath.dirname(plotly_src), name))

        library = f'<script src="{html.escape(plotly_src)}"></script>'
        style = f'<link rel="stylesheet" href="{beside(EXPLORER_CSS)}">'
        app = f'<script src="{beside(EXPLORER_JS)}"></script>'
    return _TEMPLATE.format(title=title, library=library, style=style,
                            data=_json_script(page_data(data)), app=app)


# The pages' program and style, shared beside a shared plotly.js (the gallery).
EXPLORER_JS = "optviz-explorer.js"
EXPLORER_CSS = "optviz-explorer.css"


def shared_assets() -> dict[str, str]:
    """The files that pages given a shared plotly.js load beside it, by name."""
    return {EXPLORER_JS: _APP, EXPLORER_CSS: _CSS + "\n"}


_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="optviz">
<title>{title}</title>
{style}
{library}
</head>
<body>
<h1 id="optviz-title">{title}</h1>
<div id="optviz-controls"></div>
<div id="optviz-plots"></div>
<section id="optviz-reproduce">
<p>Draws this view: <code id="optviz-command"></code></p>
<p id="optviz-link-line">Link to this view: <a id="optviz-link" href="#">#</a></p>
<details><summary>Config (<code>optviz render config.yaml</code> draws the page's
figure)</summary><pre id="optviz-config"></pre></details>
</section>
<p id="optviz-message"></p>
<script type="application/json" id="optviz-data">{data}</script>
{app}
</body>
</html>
"""

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1rem 1.5rem; color: #222; background: #fff; }
h1 { font-size: 1.25rem; font-weight: 600; margin: .2rem 0 .6rem; }
#optviz-controls { display: grid; grid-template-columns: max-content 1fr max-content;
  gap: .35rem .8rem; align-items: center; max-width: 60rem; }
#optviz-controls input[type=range] { width: 100%; }
#optviz-controls .value { font-variant-numeric: tabular-nums; min-width: 9rem; }
#optviz-controls .swatch { display: inline-block; width: .8rem; height: .8rem;
  border-radius: 2px; margin-right: .35rem; vertical-align: middle; }
#optviz-plots { display: flex; flex-wrap: wrap; gap: .5rem; }
#optviz-plots > div { flex: 1 1 32rem; min-width: 22rem; height: 32rem; }
#optviz-reproduce code { background: #f3f3f3; padding: .15rem .35rem; border-radius: 3px;
  word-break: break-all; }
#optviz-reproduce a { overflow-wrap: anywhere; }
#optviz-config { background: #f6f6f6; padding: .6rem; overflow: auto; }
#optviz-message { color: #a33; }
button { font: inherit; padding: .15rem .7rem; }
""".strip()

# The page's program (decode the data, draw with plotly, wire the sliders, keep the state in
# the URL hash, show the command), in its own file so that it reads as JavaScript.
_APP = (Path(__file__).with_name("explorer.js")).read_text(encoding="utf-8")

