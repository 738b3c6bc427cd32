"""What a new user meets in the page, in headless Chromium: every click is answered (a second Start,
an upload that is not a picture, Stop), a note never describes another request, and a page in
Chinese reads the Train tab's status, log and legends in Chinese."""

import pytest
from conftest import needs_chromium, open_page, stop_every_run

pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.usefixtures("no_run_training")]  # each passes alone, in any order


def _toast(page, words: str, timeout=30_000) -> str:
    """The text of the toast that says `words` (an Info, Warning or Error box)."""
    page.wait_for_function("w => [...document.querySelectorAll('.toast-body')].some(t => t.innerText.includes(w))",
                           arg=words, timeout=timeout)
    return next(t for t in page.locator(".toast-body").all_inner_texts() if words in t)


def _number(page, box: str, value: str) -> None:
    field = page.locator(f"{box} input[type='number']")
    field.fill(value)
    field.press("Tab")


def test_a_second_start_in_the_same_tab_is_answered_and_the_buttons_follow_the_run(browser, app_url):
    with open_page(browser, app_url) as page:
        page.get_by_role("tab", name="Train", exact=True).click()
        page.locator("#train-name textarea").fill("answers-a")
        for box, value in (("#train-steps", "2000"), ("#train-batch", "16"), ("#train-sample-every", "50")):
            _number(page, box, value)
        page.locator("#train-start").click()
        page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('answers-a · training')",
                               timeout=60_000)
        page.locator("#train-name textarea").fill("answers-b")
        # Start cannot be used while the run trains, and the page says why; Stop can, Resume cannot
        page.wait_for_function("() => document.querySelector('#train-start').disabled", timeout=30_000)
        assert "Start waits: 'answers-a' is training now" in page.locator("#train-status").inner_text()
        assert page.locator("#train-stop").is_enabled() and page.locator("#train-resume").is_disabled()
        # Stop is confirmed in the page, and the buttons turn round
        page.locator("#train-stop").click()
        assert "Stopping 'answers-a'" in _toast(page, "Stopping")
        page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('answers-a · stopped')",
                               timeout=60_000)
        page.wait_for_function("() => !document.querySelector('#train-start').disabled", timeout=30_000)
        assert page.locator("#train-stop").is_disabled() and page.locator("#train-resume").is_enabled()
        assert "the checkpoint is saved" in page.locator("#train-log textarea").input_value()


def test_start_on_a_page_that_has_not_seen_another_run_gets_the_sentence(browser, app_url):
    from gradio_client import Client

    with open_page(browser, app_url) as page:
        page.get_by_role("tab", name="Train", exact=True).click()
        page.locator("#train-start").wait_for(timeout=30_000)
        job = Client(app_url, verbose=False).submit("dcgan", "digits", None, "answers-other", 2000, 16, 2e-4, 0, 50,
                                                    api_name="/start_training")
        try:
            next(iter(job))  # the other browser's run has started
            page.locator("#train-name textarea").fill("answers-mine")
            page.locator("#train-start").click()
            assert "'answers-other' is training now" in _toast(page, "is training now")
        finally:
            stop_every_run()


def test_an_error_clears_the_note_of_the_answer_before(browser, app_url):
    with open_page(browser, app_url) as page:
        page.get_by_role("tab", name="Conditional image", exact=True).click()
        model = page.locator("#cond-model input")
        model.fill("text2img-shapes")
        model.press("Enter")
        page.wait_for_function("() => document.querySelector('#cond-condition label').innerText.includes('Caption')",
                               timeout=30_000)
        caption = page.locator("#cond-condition textarea")
        caption.fill("a red star")
        page.locator("#cond-generate").click()
        page.wait_for_function("() => document.querySelector('#cond-notes').innerText.includes('Seed')", timeout=60_000)
        caption.fill("a purple elephant dancing")
        page.locator("#cond-generate").click()
        _toast(page, "purple")
        assert page.locator("#cond-notes [data-testid=markdown]").inner_text().strip() == ""  # beside the error badge

        page.get_by_role("tab", name="Text", exact=True).click()
        page.locator("#text-prompt textarea").fill("ROMEO.")
        page.locator("#text-generate").click()
        page.wait_for_function("() => document.querySelector('#text-notes').innerText.includes('Seed')", timeout=60_000)
        page.locator("#text-model input").fill("gpt2")
        page.locator("#text-model input").press("Enter")
        page.locator("#text-generate").click()
        _toast(page, "gpt2")
        assert page.locator("#text-notes [data-testid=markdown]").inner_text().strip() == ""


def test_text_stop_keeps_the_note_that_makes_the_text_again(browser, app_url):
    with open_page(browser, app_url) as page:
        page.locator("#text-prompt textarea").fill("HAMLET.")
        slider = page.locator("input[aria-label='number input for Max new tokens']")
        slider.fill("1000")
        slider.press("Enter")
        page.locator("#text-generate").click()
        page.wait_for_function("() => document.querySelector('#text-output textarea').value.length > 40", timeout=60_000)
        page.locator("#text-stop").click()
        page.wait_for_function("() => document.querySelector('#text-notes').innerText.includes('stopped')", timeout=60_000)
        note = page.locator("#text-notes").inner_text()
        assert "Seed" in note and "tokens" in note
        tokens = int(note.split(" tokens")[0].split("·")[-1].strip())
        assert 0 < tokens < 1000


def test_uploads_that_are_not_pictures_are_answered_at_once_with_their_own_names(browser, app_url, tmp_path):
    fake_picture = tmp_path / "holiday.png"
    fake_picture.write_text("this is not a picture")
    fake_zip = tmp_path / "my-drawings.zip"
    fake_zip.write_text("this is not a zip")
    with open_page(browser, app_url) as page:
        page.get_by_role("tab", name="Conditional image", exact=True).click()
        page.get_by_role("tab", name="Image to image (Hub)", exact=True).click()
        page.locator("input[type=file]").first.set_input_files(str(fake_picture))
        assert "'holiday.png'" in _toast(page, "holiday.png") and "not a picture" in _toast(page, "holiday.png")
        page.wait_for_function("() => !document.querySelector('.toast-body')", timeout=30_000)  # it goes by itself
        page.get_by_role("tab", name="Inpaint (Hub)", exact=True).click()
        with page.expect_file_chooser() as chooser:
            page.locator("#inpaint-editor").get_by_text("Upload").first.click()
        chooser.value.set_files(str(fake_picture))
        assert "'holiday.png'" in _toast(page, "holiday.png") and "not a picture" in _toast(page, "holiday.png")

        page.get_by_role("tab", name="Train", exact=True).click()
        page.locator("#train-dataset input").click()
        page.get_by_role("option", name="Your images (.zip)").click()
        page.locator("#train-upload input[type=file]").set_input_files(str(fake_zip))
        said = _toast(page, "my-drawings.zip")
        assert "'my-drawings.zip' is not a .zip archive" in said and "dataset.zip" not in said


def test_a_chinese_page_reads_the_train_tab_in_chinese(browser, app_url):
    from gradio_client import Client

    Client(app_url, verbose=False).predict("dcgan", "digits", None, "answers-zh", 20, 16, 2e-4, 0, 10,
                                           api_name="/start_training")
    with open_page(browser, app_url, "zh-CN") as page:
        page.locator("button[role=tab][data-tab-id=train]").click()
        page.locator("#train-run input").fill("answers-zh")
        page.locator("#train-run input").press("Enter")
        page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('已完成')", timeout=60_000)
        status = page.locator("#train-status").inner_text()
        assert "第 20 / 20 步" in status and "最佳检查点" in status and "finished" not in status
        log = page.locator("#train-log textarea").input_value()
        assert "开始训练" in log and "训练完成" in log and "started" not in log
        page.wait_for_function("() => document.querySelector('#train-loss').innerText.includes('生成器损失')",
                               timeout=30_000)
        assert "判别器损失" in page.locator("#train-loss").inner_text()
        assert "学习率" in page.locator("#train-lr-plot").inner_text()
        # Settings offers the languages the app has
        page.locator("footer button, footer a").filter(has_text="设置").first.click()
        page.get_by_label("Language").last.click()
        page.get_by_role("option", name="English").wait_for(timeout=30_000)
        shown = page.evaluate("() => [...document.querySelectorAll('[role=listbox] li')]"
                              ".filter(o => getComputedStyle(o).display !== 'none').map(o => o.getAttribute('aria-label'))")
        assert sorted(shown) == sorted(["English", "简体中文"])
