"""Screenshots of every tab and an animation of a training run, from the real app in headless
Chromium, for the README: python scripts/readme_media.py [--out docs] [--lang en]

Needs Debian's chromium (apt-get install chromium) and the dev requirements. The training
run is a short DCGAN on digits in a throwaway runs folder.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEW = {"width": 1280, "height": 900}


def serve() -> str:
    os.environ.setdefault("AIGC_RUNS", tempfile.mkdtemp(prefix="aigc-media-runs-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from aigc.net import free_port
    from aigc.ui import CSS, THEME, build_demo

    port = free_port()
    demo = build_demo()
    demo.queue(default_concurrency_limit=2)
    launch = dict(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, theme=THEME, css=CSS)
    try:
        from aigc.ui import I18N

        launch["i18n"] = I18N
    except ImportError:
        pass
    demo.launch(**launch)
    return f"http://127.0.0.1:{port}/"


def shoot(page, path: Path) -> None:
    """A PNG of the page, reduced to half size with a palette: a few hundred kB at most."""
    from PIL import Image

    picture = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    picture = picture.resize((picture.width // 2, picture.height // 2), Image.LANCZOS)
    picture.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} kB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--lang", default="en", help="browser language: en or zh-CN")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.lang.startswith("en") else "-" + args.lang.split("-")[0]
    url = serve()

    from PIL import Image
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS, headless=True)
        page = browser.new_context(viewport=VIEW, locale=args.lang).new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.locator("#text-generate").wait_for(timeout=60_000)

        page.locator("#text-prompt textarea").fill("ROMEO.\nBut soft")
        # (tab, button, notes that say it is done, text they show then, file); notes are in the page's language
        seed, frames_word = ("Seed", "frames") if not suffix else ("随机种子", "帧")
        for index, button, notes, done, name in ((0, "text-generate", "text-notes", seed, "text"),
                                                 (1, "image-generate", "image-notes", seed, "image"),
                                                 (2, "cond-generate", "cond-notes", seed, "conditional"),
                                                 (3, "video-generate", "video-notes", frames_word, "video"),
                                                 (4, "audio-generate", "audio-notes", seed, "audio")):
            page.locator("button[role='tab']").nth(index).click()
            page.locator(f"#{button}").click()
            page.wait_for_function(f"() => document.querySelector('#{notes}').innerText.includes('{done}')", timeout=60_000)
            page.wait_for_timeout(1000)  # pictures and the video element settle
            shoot(page, args.out / f"tab-{name}{suffix}.png")

        # Training: frames of the live page, one a second, made into a looping animation.
        page.locator("button[role='tab'][data-tab-id='train']").click()
        page.locator("#train-name textarea").fill("dcgan-demo")
        for box, value in (("#train-steps", "300"), ("#train-sample-every", "50")):
            page.locator(f"{box} input[type='number']").fill(value)
        page.locator("#train-start").click()
        frames = []
        deadline = time.time() + 600
        while time.time() < deadline:
            shot = Image.open(io.BytesIO(page.screenshot(clip={"x": 0, "y": 0, **VIEW}))).convert("RGB")
            frames.append(shot.resize((VIEW["width"] // 2, VIEW["height"] // 2), Image.LANCZOS))
            status = page.locator("#train-status").inner_text()
            if "300 / 300" in status and ("finished" in status or "完成" in status):
                break
            page.wait_for_timeout(1000)
        shoot(page, args.out / f"tab-train{suffix}.png")
        if not suffix:
            gif = args.out / "training.gif"
            frames += [frames[-1]] * 3  # rest on the finished run before looping
            palette = [f.quantize(colors=64, method=Image.Quantize.MEDIANCUT) for f in frames]
            palette[0].save(gif, save_all=True, append_images=palette[1:], duration=250, loop=0, optimize=True)
            print(f"{gif} ({gif.stat().st_size // 1024} kB, {len(frames)} frames)")

        page.locator("button[role='tab'][data-tab-id='models']").click()
        page.wait_for_timeout(1500)
        shoot(page, args.out / f"tab-models{suffix}.png")
        browser.close()


if __name__ == "__main__":
    main()
