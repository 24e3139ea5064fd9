"""The dashboard end to end in a real browser: Debian's chromium driven by Playwright.

Starts ``streamlit run app.py`` on a free localhost port with an empty cache, uploads a
clip through the real file input (a shared clip with a mirror flip synthesized on one
hand, so there is an event to pick), waits for the verdict, picks the event in the
inspector and checks that the timeline, the inspector and the <video> element's
``currentTime`` follow. Saves a screenshot (``VIDHAND_E2E_SCREENSHOT`` or the test's
temp folder).

Needs: ``apt-get install chromium`` (``/usr/bin/chromium``), the ``playwright`` Python
package (never ``playwright install``), and ``../shared/clips``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, shared_clip

CHROMIUM = Path("/usr/bin/chromium")
CLIP = "natural/dyngest_zoom_two_hands_bbox.gif"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    """A streamlit server on localhost with an empty cache; yields its URL."""
    port = free_port()
    env = {**os.environ, "VIDHAND_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("VIDHAND_CLIPS_DIR", None)
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        # Shutdown noise after SIGTERM ("Event loop is closed") is not the app's fault.
        text = (tmp_path / "streamlit.log").read_text().split("Stopping...")[0]
        assert "Traceback" not in text, text


def test_upload_verdict_event_seek(server: str, tmp_path: Path):
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="needs the playwright Python package")
    from vidhand.synth import synthesize

    # The same case as test_synth's mirror-flip pipeline test: the checks find it.
    clip = tmp_path / "mirror.mp4"
    synthesize(shared_clip(CLIP), "mirror_flip", 10, 29, clip, seed=3)
    shot = Path(os.environ.get("VIDHAND_E2E_SCREENSHOT", tmp_path / "dashboard.png"))
    t0 = time.monotonic()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 2300})
        page.set_default_timeout(30_000)
        page.goto(server)
        page.locator('input[type="file"]').set_input_files(str(clip))

        # Progress streams while MediaPipe runs, then the verdict appears.
        verdict = page.locator(".vh-verdict .big")
        verdict.wait_for(timeout=60_000)
        assert verdict.inner_text().strip() in ("PASS", "WARN", "FAIL")
        timeline = page.locator(".st-key-timeline")
        timeline.locator("canvas, svg").first.wait_for()
        rows = timeline.locator('[data-testid="stVegaLiteChart"]')
        assert rows.count() >= 1

        # Pick the last event.
        inspector = page.locator(".st-key-inspector")
        inspector.locator('[data-testid="stSelectbox"]').click()
        options = page.get_by_role("option")
        texts = [t.strip() for t in options.all_inner_texts()]
        events = [t for t in texts if t.startswith("#")]
        assert events, texts
        target = events[-1]
        options.filter(has_text=target).first.click()
        expected_s = float(re.search(r"· ([0-9.]+) s$", target).group(1))
        frames = re.search(r"frames (\d+-\d+)", target).group(1)
        # The inspector shows the event: its frames, message and evidence table.
        inspector.get_by_text(re.compile(rf"^frames {frames} · ")).wait_for()
        assert inspector.locator('[data-testid="stDataFrame"]').count() == 1
        wanted = f"Player at {expected_s:.2f} s"
        box = inspector.locator('[data-testid="stSelectbox"]')
        shown = box.inner_text() + " ".join(
            i.input_value() for i in box.locator("input").all())
        assert target[:30] in shown
        # Wait for the rerun of this selection (the old caption stays until it replaces it).
        caption = page.get_by_text(re.compile(r"^Player at [0-9.]+ s")).filter(has_text=wanted)
        caption.wait_for()
        page.wait_for_function("!document.querySelector('[data-stale=\"true\"]')")
        player_s = float(re.search(r"at ([0-9.]+) s", caption.inner_text()).group(1))

        # The <video> element really seeked there (Streamlit only takes whole seconds;
        # the page nudges it to the exact time).
        page.wait_for_function(
            """(t) => { const v = document.querySelector('[class*="st-key-player"] video');
                        return v && v.readyState >= 2 && Math.abs(v.currentTime - t) < 0.05; }""",
            arg=player_s, timeout=15_000)
        current = page.evaluate(
            "document.querySelector('[class*=\"st-key-player\"] video').currentTime")
        assert abs(current - player_s) < 0.05
        # The timeline cursor and frame pictures belong to the selection.
        assert inspector.locator('[data-testid="stImage"]').count() >= 2
        page.wait_for_timeout(800)  # let the charts finish drawing for the screenshot
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        browser.close()
    assert shot.stat().st_size > 10_000
    assert time.monotonic() - t0 < 90
    shutil.copy(shot, tmp_path / "last_dashboard.png")
