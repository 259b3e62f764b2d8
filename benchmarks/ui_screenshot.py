"""Make docs/img/studio.png: douga studio on the demo project, after "Analyse".

    .venv/bin/python benchmarks/ui_screenshot.py [--out docs/img/studio.png]

Needs the ui and dev extras (Gradio, Playwright) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
from pathlib import Path

from PIL import Image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/img/studio.png")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from douga.demo import write_demo_project
    from douga.ui.app import launch

    root = Path(tempfile.mkdtemp(prefix="douga-studio-"))
    write_demo_project(root / "demo", seconds=20.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    app = launch(root, port=port, name="demo", block=False)
    shot = root / "shot.png"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                        args=["--no-sandbox", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("#message").get_by_text("keyframes").wait_for()
            page.locator("#analyse").click()
            page.locator("#plot img").wait_for()
            page.locator("#summary").get_by_text("BPM").wait_for()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
    finally:
        app.close()
    image = Image.open(shot).convert("RGB")
    image = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.LANCZOS)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"wrote {out} ({image.width}x{image.height}, {out.stat().st_size // 1024} KiB)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
