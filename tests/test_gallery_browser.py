"""The gallery's index.html in a real browser: served over HTTP, every image loads.

Needs a Chromium binary (Debian: ``apt-get install -y chromium``); skipped without one.
"""

from __future__ import annotations

import functools
import html
import os
import re
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from optviz.gallery.build import build_gallery


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary on PATH (Debian: apt-get install -y chromium)",
)

# A page beside the gallery that opens index.html in an iframe and, once everything has
# loaded, writes what it saw into its own DOM, which --dump-dom prints. It lives in the test,
# so the gallery's own page carries no test hooks.
PROBE = """<!doctype html>
<html><head><meta charset="utf-8"></head><body>
<iframe id="g" src="gallery/index.html" width="1200" height="900"></iframe>
<script>
window.addEventListener("load", () => {
  const images = [...document.getElementById("g").contentDocument.images];
  const good = images.filter(i => i.complete && i.naturalWidth > 0);
  const out = document.createElement("pre");
  out.id = "result";
  out.textContent = JSON.stringify({
    total: images.length,
    loaded: good.length,
    widths: good.map(i => i.naturalWidth),
    broken: images.filter(i => !good.includes(i)).map(i => i.getAttribute("src")),
  });
  document.body.appendChild(out);
});
</script>
</body></html>
"""


class _Handler(SimpleHTTPRequestHandler):
    """Serves the folder quietly and remembers every request's status."""

    seen: list[tuple[str, int]]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.seen.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, Path, list[tuple[str, int]]]]:
    """A small rendered gallery beside its configs, served on 127.0.0.1 at a free port (built
    once for the module's tests, which only read it)."""
    tmp_path = tmp_path_factory.mktemp("served")
    configs = tmp_path / "configs"
    (configs / "sub").mkdir(parents=True)
    (configs / "adam.yaml").write_text("optimizers: [adam]\nsteps: 5\nlr: 0.1\n"
                                       "title: Adam & <friends>\n")
    (configs / "sub" / "sgd.yaml").write_text("optimizers: [sgd]\nsteps: 5\nlr: 0.05\n")
    (configs / "named.yaml").write_text("optimizers: [rmsprop]\nsteps: 5\nlr: 0.05\n"
                                        "output: figs/my rms.png\n")
    summary = build_gallery(configs, tmp_path / "gallery", jobs=1)
    assert not summary.failed, [e.reason for e in summary.failed]
    (tmp_path / "probe.html").write_text(PROBE)

    server, thread, seen = serve(tmp_path)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path, seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def open_in_chromium(base: str, profile: Path, page: str = "probe.html",
                     extra: list[str] | None = None) -> dict:
    """What the probe page saw of gallery/index.html in headless Chromium."""
    import json

    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
        *(extra or ["--virtual-time-budget=10000"]), "--dump-dom", f"{base}/{page}",
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="result">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"chromium printed no result (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def serve(root: Path) -> tuple[ThreadingHTTPServer, threading.Thread, list[tuple[str, int]]]:
    seen: list[tuple[str, int]] = []
    handler = functools.partial(type("H", (_Handler,), {"seen": seen}), directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, seen


def test_every_image_of_the_committed_gallery_loads_in_chromium(tmp_path: Path) -> None:
    # The repository's own gallery/ beside its configs/, as a reader of the repository sees it.
    repo = Path(__file__).resolve().parent.parent
    shutil.copytree(repo / "gallery", tmp_path / "site" / "gallery")
    shutil.copytree(repo / "configs", tmp_path / "site" / "configs")
    (tmp_path / "site" / "probe.html").write_text(PROBE)
    server, thread, seen = serve(tmp_path / "site")
    try:
        result = open_in_chromium(f"http://127.0.0.1:{server.server_address[1]}",
                                  tmp_path / "profile")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    images = [*(repo / "gallery").rglob("*.png"), *(repo / "gallery").rglob("*.gif")]
    assert len(images) >= 20
    assert result["broken"] == []
    assert result["total"] == result["loaded"] == len(images)
    assert [(p, code) for p, code in seen if code != 200 and p != "/favicon.ico"] == []


# The gallery's <video> elements: each decoded (or failed, or timed out), then played muted
# for 1.5 s of the page's time.
VIDEO_PROBE = """<!doctype html>
<html><head><meta charset="utf-8"></head><body>
<iframe id="g" src="gallery/index.html" width="1200" height="900"></iframe>
<script>
window.addEventListener("load", async () => {
  const videos = [...document.getElementById("g").contentDocument.querySelectorAll("video")];
  const seen = await Promise.all(videos.map(v => new Promise(done => {
    const report = how => done({src: v.getAttribute("src"), how, width: v.videoWidth,
                                height: v.videoHeight, duration: v.duration});
    if (v.readyState >= 2) return report("ready");
    v.addEventListener("loadeddata", () => report("ready"), {once: true});
    v.addEventListener("error", () => report("error " + (v.error && v.error.code)),
                       {once: true});
    setTimeout(() => report("timed out"), 8000);
  })));
  const played = await Promise.all(videos.map(async v => {
    v.muted = true;
    try { await v.play(); } catch (e) { return "play refused: " + e.name; }
    const before = v.currentTime;
    await new Promise(r => setTimeout(r, 1500));
    return v.currentTime - before;
  }));
  const out = document.createElement("pre");
  out.id = "result";
  out.textContent = JSON.stringify({videos: seen, played});
  document.body.appendChild(out);
});
</script>
</body></html>
"""


def test_the_committed_gallerys_videos_decode_and_play_in_chromium(tmp_path: Path) -> None:
    import imageio_ffmpeg

    repo = Path(__file__).resolve().parent.parent
    videos = sorted(p.relative_to(repo / "gallery").as_posix()
                    for p in (repo / "gallery").rglob("*.mp4"))
    assert videos, "the gallery has an MP4"
    shutil.copytree(repo / "gallery", tmp_path / "site" / "gallery")
    (tmp_path / "site" / "probe.html").write_text(VIDEO_PROBE)
    server, thread, _ = serve(tmp_path / "site")
    try:
        result = open_in_chromium(f"http://127.0.0.1:{server.server_address[1]}",
                                  tmp_path / "profile", page="probe.html",
                                  extra=["--autoplay-policy=no-user-gesture-required",
                                         "--virtual-time-budget=20000"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert sorted(v["src"] for v in result["videos"]) == videos
    for video, played in zip(result["videos"], result["played"], strict=True):
        meta = next(imageio_ffmpeg.read_frames(str(repo / "gallery" / video["src"])))
        assert video["how"] == "ready", video
        assert [video["width"], video["height"]] == list(meta["size"])
        assert video["duration"] == pytest.approx(meta["duration"], abs=0.1)
        assert isinstance(played, float) and played > 0.5, played  # the picture moves


def test_every_image_of_the_index_loads_in_chromium(served, tmp_path: Path) -> None:
    base, root, seen = served
    result = open_in_chromium(base, tmp_path / "profile")

    pngs = sorted(p.relative_to(root / "gallery").as_posix()
                  for p in (root / "gallery").rglob("*.png"))
    assert pngs == ["adam.png", "figs/my rms.png", "sub/sgd.png"]
    assert result["broken"] == []
    assert result["total"] == result["loaded"] == len(pngs)
    assert all(width >= 400 for width in result["widths"])
    # Every image the page asked for came from the gallery folder, and nothing failed.
    requested = {path for path, _ in seen}
    for png in pngs:
        assert "/gallery/" + png.replace(" ", "%20") in requested
    # (The browser's own favicon request for the probe page is no concern of the gallery.)
    assert [(p, code) for p, code in seen if code != 200 and p != "/favicon.ico"] == []


def test_config_links_of_the_index_resolve_over_http(served) -> None:
    base, root, _ = served
    page = (root / "gallery" / "index.html").read_text()
    links = re.findall(r'<a class="config" href="([^"]+)"', page)
    assert len(links) == 3
    for link in links:
        with urllib.request.urlopen(f"{base}/gallery/{html.unescape(link)}", timeout=10) as r:
            assert r.status == 200
            assert b"optimizers:" in r.read()
