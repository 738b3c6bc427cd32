"""One user in headless Chromium: type a prompt, click Generate, watch text appear.

Each test opens its own page, as a new visitor does, so that each passes alone and in any order."""

import os
from pathlib import Path

import pytest
from conftest import needs_chromium, open_page

pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.usefixtures("no_run_training")]


@pytest.fixture
def page(app_url, browser):
    with open_page(browser, app_url) as page:
        yield page


def test_type_a_prompt_click_generate_and_see_text(page, tmp_path):
    prompt = page.locator("#text-prompt textarea")
    prompt.fill("ROMEO.\nBut soft")
    page.locator("#text-generate").click()
    output = page.locator("#text-output textarea")
    page.wait_for_function(
        "() => { const t = document.querySelector('#text-output textarea'); return t && t.value.length > 60; }",
        timeout=60_000,
    )
    assert output.input_value().startswith("ROMEO.\nBut soft")
    page.wait_for_function("() => document.querySelector('#text-notes').innerText.includes('Seed')", timeout=60_000)
    shots = Path(os.environ.get("AIGC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "text-tab.png"), full_page=True)


def test_open_the_image_tab_generate_and_see_a_gallery(page, tmp_path):
    page.get_by_role("tab", name="Image", exact=True).click()
    page.locator("#image-generate").click()
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('#image-gallery img')];"
        " return imgs.length >= 16 && imgs.every(i => i.complete && i.naturalWidth > 0); }", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#image-notes').innerText.includes('Seed')", timeout=60_000)
    sizes = page.evaluate("() => [...document.querySelectorAll('#image-gallery img')].map(i => i.naturalWidth)")
    assert len(sizes) >= 16 and min(sizes) >= 128  # samples arrive enlarged, not as 32-pixel thumbnails
    shots = Path(os.environ.get("AIGC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "image-tab.png"), full_page=True)


def test_type_a_caption_in_the_conditional_tab_and_see_a_gallery(page, tmp_path):
    page.get_by_role("tab", name="Conditional image", exact=True).click()
    model = page.locator("#cond-model input")
    model.wait_for(timeout=60_000)
    model.fill("text2img-shapes")
    model.press("Enter")
    page.wait_for_function("() => document.querySelector('#cond-condition label').innerText.includes('Caption')", timeout=30_000)
    caption = page.locator("#cond-condition textarea")
    caption.fill("a large red star in the top right")
    page.locator("#cond-generate").click()
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('#cond-gallery img')];"
        " return imgs.length >= 16 && imgs.every(i => i.complete && i.naturalWidth > 0); }", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#cond-notes').innerText.includes('Seed')", timeout=60_000)
    # the samples are red: the mean of a sample's brightest pixels leans to the red channel
    colors = page.evaluate("""() => [...document.querySelectorAll('#cond-gallery img')].slice(0, 4).map(img => {
        const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data; let r = 0, gr = 0, b = 0;
        for (let i = 0; i < d.length; i += 4) { if (d[i] + d[i+1] + d[i+2] > 200) { r += d[i]; gr += d[i+1]; b += d[i+2]; } }
        return [r, gr, b]; })""")
    assert sum(r > 1.5 * max(g, b) for r, g, b in colors) >= 3
    shots = Path(os.environ.get("AIGC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "conditional-tab.png"), full_page=True)

    page.get_by_role("tab", name="Inpaint (Hub)", exact=True).click()
    page.screenshot(path=str(shots / "conditional-inpaint.png"), full_page=True)


def test_type_a_caption_in_the_video_tab_and_watch_the_clip(page, tmp_path):
    page.get_by_role("tab", name="Video", exact=True).click()
    caption = page.locator("#video-prompt textarea")
    caption.wait_for(timeout=60_000)
    caption.fill("a large red star in the top right moving left")
    fps = page.locator("#video-fps input[type='number']")
    fps.fill("4")
    fps.press("Enter")
    page.locator("#video-generate").click()
    page.wait_for_function("() => document.querySelector('#video-notes').innerText.includes('16 frames')", timeout=60_000)
    # HAVE_CURRENT_DATA: the browser has decoded the H.264 stream, not merely received a file
    page.wait_for_function("() => { const v = document.querySelector('#video-output video');"
                           " return v && v.readyState >= 2 && v.duration > 0; }", timeout=60_000)
    video = page.evaluate("() => { const v = document.querySelector('#video-output video');"
                          " return {duration: v.duration, width: v.videoWidth, loop: v.loop}; }")
    assert abs(video["duration"] - 16 / 4) < 0.3 and video["width"] >= 256 and video["loop"]
    page.wait_for_function("() => { const i = document.querySelector('#video-strip img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=60_000)
    shots = Path(os.environ.get("AIGC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "video-tab.png"), full_page=True)


def test_start_a_run_in_the_train_tab_and_watch_the_curves_grow(page, tmp_path):
    page.get_by_role("tab", name="Train", exact=True).click()
    page.locator("#train-name textarea").fill("browser-run")
    for box, value in (("#train-steps", "80"), ("#train-batch", "16"), ("#train-sample-every", "20")):
        field = page.locator(f"{box} input[type='number']")
        field.fill(value)
        field.press("Tab")
    page.locator("#train-start").click()
    step_now = ("() => { const m = document.querySelector('#train-status').innerText.match(/step (\\d+) \\/ 80/);"
                " return m ? Number(m[1]) : -1; }")
    page.wait_for_function(f"() => ({step_now})() >= 10", timeout=120_000)
    page.reload(wait_until="domcontentloaded")  # a reloaded page finds the run that is training
    page.get_by_role("tab", name="Train", exact=True).click()
    page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('browser-run · training')",
                           timeout=60_000)
    plot = page.locator("#train-loss")
    early_step, early = page.evaluate(step_now), plot.screenshot()
    page.wait_for_function(f"() => ({step_now})() >= {early_step} + 30", timeout=120_000)
    later = plot.screenshot()
    assert later != early  # the curve was redrawn with the new points
    page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('finished')", timeout=120_000)
    page.wait_for_function("() => { const i = document.querySelector('#train-sample img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=60_000)
    assert "★ best checkpoint" in page.locator("#train-status").inner_text()
    shots = Path(os.environ.get("AIGC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "train-tab.png"), full_page=True)
    page.get_by_role("tab", name="Image", exact=True).click()  # the run's model is offered there at once
    page.locator("#image-model input").click()
    page.get_by_role("option", name="browser-run", exact=True).wait_for(timeout=30_000)
    page.keyboard.press("Escape")


def test_the_models_tab_shows_every_model_and_a_card(page, tmp_path):
    page.get_by_role("tab", name="Models", exact=True).click()
    page.wait_for_function("() => document.querySelector('#models-table').innerText.includes('text2video-shapes')",
                           timeout=60_000)
    page.locator("#models-pick input").click()
    page.get_by_role("option", name="cgan-digits", exact=True).click()
    page.wait_for_function("() => document.querySelector('#models-card').innerText.includes('python -m aigc train cgan')",
                           timeout=60_000)
    page.wait_for_function("() => { const i = document.querySelector('#models-samples img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=60_000)
    shots = Path(os.environ.get("AIGC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "models-tab.png"), full_page=True)


def test_an_image_example_sets_the_model_and_its_controls(page):
    page.get_by_role("tab", name="Image", exact=True).click()
    page.get_by_role("button", name="ddpm-digits · 10 steps", exact=True).click()
    page.wait_for_function("() => document.querySelector('#image-model input').value === 'ddpm-digits'", timeout=30_000)
    page.locator("#image-generate").click()
    page.wait_for_function("() => document.querySelector('#image-notes').innerText.includes('8 images')", timeout=60_000)
    page.get_by_role("button", name="dcgan-digits", exact=True).click()  # another example, another model
    page.wait_for_function("() => document.querySelector('#image-model input').value === 'dcgan-digits'", timeout=30_000)


def test_an_example_fills_the_train_tab_and_choosing_a_kind_fills_its_defaults(page):
    page.get_by_role("tab", name="Train", exact=True).click()
    page.get_by_role("button", name="gpt-shakespeare", exact=True).click()
    number = "(id) => Number(document.querySelector(id + \" input[type='number']\").value)"
    page.wait_for_function(f"() => ({number})('#train-steps') === 500", timeout=30_000)
    assert page.evaluate(f"() => [({number})('#train-batch'), ({number})('#train-lr'), ({number})('#train-sample-every')]") \
        == [32, 0.002, 50]
    assert page.locator("#train-name textarea").input_value() == "gpt-shakespeare"
    page.wait_for_function("() => document.querySelector('#train-dataset input').value === 'shakespeare'",
                           timeout=30_000)  # the example's kind's data, set by the example's own event
    page.locator("#train-kind input").click()  # a kind chosen by hand brings its own defaults
    page.get_by_role("option", name="VAE: images", exact=True).click()
    page.wait_for_function(f"() => ({number})('#train-steps') === 2000", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#train-dataset input').value === 'digits'", timeout=30_000)


def test_say_digits_in_the_audio_tab_and_see_the_player_ready(page, tmp_path):
    page.get_by_role("tab", name="Audio", exact=True).click()
    what = page.locator("#audio-what textarea")
    what.wait_for(timeout=60_000)
    what.fill("3 1 4")
    page.locator("#audio-generate").click()
    page.wait_for_function("() => document.querySelector('#audio-notes').innerText.includes('3 clip(s)')", timeout=60_000)
    # the player has read the WAV: it shows the clip's length (three clips and two pauses: 0:03)
    page.wait_for_function("() => /0:03/.test(document.querySelector('#audio-output').innerText)", timeout=60_000)
    assert page.locator("#audio-output button[aria-label='Play'], #audio-output button.play-pause-button").count() >= 1
    for picture in ("#audio-waveform", "#audio-spectrogram"):
        page.wait_for_function(f"() => {{ const i = document.querySelector('{picture} img');"
                               " return i && i.complete && i.naturalWidth >= 320; }", timeout=60_000)
    shots = Path(os.environ.get("AIGC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "audio-tab.png"), full_page=True)
