"""A run trained in the app gets a card as complete as a built-in model's: seen in headless Chromium."""

import os
import re
import tempfile
from pathlib import Path

import pytest
from conftest import needs_chromium, stop_every_run

RUN = "card-gan"

pytestmark = [needs_chromium, pytest.mark.slow]


@pytest.fixture(scope="module")
def trained_run(app_url):
    """A tiny DCGAN run started through the app's own endpoint, as the Train tab starts it."""
    from gradio_client import Client

    stop_every_run()  # the app trains one run at a time: one another test left going would refuse this one
    # kind, dataset, upload, name, steps, batch size, learning rate, seed, sample every
    Client(app_url, verbose=False).predict("dcgan", "digits", None, RUN, 6, 16, 2e-4, 0, 3, api_name="/start_training")
    return RUN


def test_a_run_card_shows_its_figures_samples_speed_and_a_command_to_copy(app_url, trained_run, browser):
    shots = Path(os.environ.get("AIGC_SCREENSHOTS") or tempfile.mkdtemp(prefix="aigc-shots-"))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(app_url, wait_until="domcontentloaded")
        page.locator("#text-prompt textarea").wait_for(timeout=60_000)
        page.get_by_role("tab", name="Models", exact=True).click()
        page.wait_for_function(f"() => document.querySelector('#models-table').innerText.includes('{RUN}')",
                               timeout=30_000)
        pick = page.locator("#models-pick input")
        pick.fill(RUN)
        pick.press("Enter")
        page.wait_for_function(f"() => document.querySelector('#models-card').innerText.includes('{RUN}')",
                               timeout=30_000)
        page.screenshot(path=str(shots / "run-card.png"), full_page=True)  # looked at when a check below fails
        page.wait_for_function("() => { const i = document.querySelector('#models-samples img');"
                               " return i && i.complete && i.naturalWidth > 0; }", timeout=30_000)
        page.screenshot(path=str(shots / "run-card.png"), full_page=True)

        card = page.locator("#models-card").inner_text()
        headline = next(line for line in card.splitlines() if "parameters, trained from scratch" in line)
        assert not re.search(r"\bnan\b", card, re.IGNORECASE) and "?" not in card, headline
        assert re.search(r"finds \d+ of 10 classes \(real digits: \d+%, 10\)", headline), headline

        row = next(line for line in page.locator("#models-table").inner_text().splitlines() if line.startswith(RUN))
        assert re.search(r"[\d,]+ images/s", row), row
        assert re.search(r"Frechet distance [\d.]+ \([\d.]+\)", row), row

        command = page.locator("#models-card pre").filter(has_text="python -m aigc train").first
        shown = command.inner_text()
        assert f"--out runs/{RUN}" in shown and "/tmp" not in shown and tempfile.gettempdir() not in shown, shown
        # all of it is on screen: nothing hidden behind a scroll bar or past the card's edge
        width = command.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert width[0] <= width[1], width
        box, column = command.bounding_box(), page.locator("#models-card").bounding_box()
        assert box["x"] + box["width"] <= column["x"] + column["width"] + 1
        command.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "run-card-command.png"))
    finally:
        page.close()
