"""End to end in a real browser: Playwright drives Debian's Chromium, headless, through
douga studio: upload a small project, analyse it, render a preview and download it.

`make test` installs Chromium (Debian's package) and sets DOUGA_REQUIRE_BROWSER=1, so
there a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio")
playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("DOUGA_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


def _files(folder: Path) -> dict[str, Path]:
    import soundfile as sf

    from douga.demo import make_demo_song

    folder.mkdir()
    sf.write(folder / "My Song.wav", make_demo_song(seconds=4.0, sr=22050), 22050)
    out = {"song": folder / "My Song.wav", "lyrics": folder / "words.lrc"}
    (folder / "words.lrc").write_text("[00:01.00]hello\n", encoding="utf-8")
    for i, colour in enumerate([(200, 40, 40), (40, 40, 200)]):
        img = np.zeros((96, 160, 3), np.uint8)
        img[:] = colour
        img[30:60, 40 + 40 * i:80 + 40 * i] = 255
        Image.fromarray(img).save(folder / f"kf{i + 1}.png")
        out[f"kf{i + 1}"] = folder / f"kf{i + 1}.png"
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    out["broken"] = folder / "broken.png"
    return out


def test_upload_analyse_preview_download(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import av

    from douga.demo import write_demo_project
    from douga.ui.app import launch

    files = _files(tmp_path / "uploads")
    root = tmp_path / "workspace"
    write_demo_project(root / "older", seconds=8.0, width=160, height=96)  # to open later
    port = _free_port()
    app = launch(root, port=port, name="mad", block=False)
    try:
        page = browser.new_page(accept_downloads=True)
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator("#add").wait_for()

        # a bad upload: a clear message, and the app keeps working
        def upload(elem: str, *paths: Path) -> None:
            page.locator(f"#{elem} input[type=file]").set_input_files([str(p) for p in paths])
            for p in paths:  # the file table shows each one once its upload is done
                page.locator(f"#{elem} td.filename[aria-label='{p.name}']").wait_for()

        upload("keyframes", files["broken"])
        upload("song", files["song"])
        page.locator("#add").click()
        page.get_by_text("broken.png: ").first.wait_for()
        assert not (root / "mad" / "project.yaml").exists()

        page.locator("#keyframes button[aria-label='Clear']").first.click()
        page.locator("#keyframes td.filename").first.wait_for(state="detached")
        upload("keyframes", files["kf1"], files["kf2"])
        upload("lyrics", files["lyrics"])
        page.locator("#add").click()
        page.locator("#message").get_by_text("2 keyframes").wait_for()
        assert (root / "mad" / "project.yaml").is_file()

        # a small output, then analysis
        for field, value in (("width", "160"), ("height", "96"), ("fps", "12")):
            page.locator(f"#{field} input").fill(value)
        page.locator("#save").click()
        page.wait_for_function(
            "() => document.querySelector('#width input').value === '160'")
        page.locator("#analyse").click()
        page.locator("#plot img").wait_for()
        page.locator("#summary").get_by_text("BPM").wait_for()
        assert (root / "mad" / "analysis.png").is_file()

        # a preview render, then its download
        page.locator("#preview").click()
        page.locator("#video video").wait_for(timeout=180_000)
        link = page.locator("#downloads a[download='preview.mp4']").first
        with page.expect_download() as info:
            link.click()
        saved = tmp_path / "downloaded.mp4"
        info.value.save_as(saved)
        with av.open(str(saved)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == 48  # 4 s at 12 fps
        assert (root / "mad" / "preview.plan.json").is_file()

        # open the other project folder of the workspace
        page.locator("#folder input").fill("older")
        page.locator("#open").click()
        page.locator("#message").get_by_text("7 keyframes").wait_for()
        assert page.locator("#schedule").get_by_text("kf/07.png").count() == 1
    finally:
        app.close()
