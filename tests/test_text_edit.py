"""The Text tab's Edit mode (aigc.ui.text_edit): blanks filled with candidates to pick from, picks
redrawn as a difference against the passage, a rewrite that keeps the words asked for, blanks made
from a selection, and one sentence for each kind of bad input, the server unharmed. The handlers run
on the toy BERT of tests/conftest.py; the app's own model is driven through gradio_client and Chromium
at the end."""

from __future__ import annotations

import gradio as gr
import pytest
from conftest import needs_chromium, open_page

from aigc import limits
from aigc.pipelines import fill
from aigc.ui import text_edit
from aigc.ui.endpoint import endpoint


class Here:
    """An engine that calls the pipeline as a library call, so the handlers can load a toy model's folder
    (a web request reads a folder's name as a Hub id)."""

    limits = limits.PRIVATE

    def call(self, role, fn, /, *args, progress=None, **kwargs):
        return fn(*args, **kwargs)


def _handler(fn, **kw):
    return endpoint(Here(), fn, **kw)


def test_filling_answers_each_blank_picks_the_first_choice_and_a_pick_redraws_the_edit(toy_bert):
    passage = "[MASK] red fox runs far\na blue whale swims [MASK]"
    found, notes = _handler(text_edit.fill_blanks)(passage, toy_bert, 3)
    assert found["passage"] == passage and [b["at"] for b in found["blanks"]] == [[0, 6], [43, 49]]
    assert "2 blank(s)" in notes
    *rows, diff, text = text_edit._choices(found)
    assert len(rows) == fill.MAX_BLANKS
    assert [r["visible"] for r in rows[:3]] == [True, True, False]
    assert rows[0]["value"] == "the" and rows[1]["value"] == "deep"  # the model's first choices, picked
    assert [w for _, w in rows[0]["choices"]] == [w for w, _ in found["blanks"][0]["candidates"]]
    assert text == "the red fox runs far\na blue whale swims deep"
    assert ("[MASK]", "-") in diff and ("deep", "+") in diff

    other = found["blanks"][1]["candidates"][1][0]
    diff, text = text_edit._edited(found, "the", other)
    assert text.endswith(f"swims {other}") and (other, "+") in diff
    diff, text = text_edit._edited(found, None, None)  # nothing picked: the blanks stay
    assert text == passage and all(tag is None for _, tag in diff)


def test_a_rewrite_keeps_the_words_asked_for_whatever_their_case_and_says_what_changed(toy_bert):
    rewrite = _handler(text_edit.rewrite_passage, seeds=("seed",))
    diff, text, notes = rewrite("The red fox runs far", toy_bert, 1.5, "RED, fox", 4)
    assert text.split()[1:3] == ["red", "fox"] and "Seed 4" in notes and "of 5 words changed" in notes
    assert "".join(piece for piece, tag in diff if tag != "-") == text
    again = rewrite("The red fox runs far", toy_bert, 1.5, "RED, fox", 4)
    assert again[1] == text  # the seed fixes it


def test_selected_words_become_blanks_even_when_the_selection_cuts_them():
    blank = _handler(text_edit._blank_selection)
    assert blank("Good night, sweet prince.", [8, 14]) == "Good [MASK], [MASK] prince."
    with pytest.raises(gr.Error, match="Select one or more words"):
        blank("Good night, sweet prince.", None)
    with pytest.raises(gr.Error, match="Select one or more words"):
        blank("Good night, sweet prince.", [10, 12])  # ", " holds no word


@pytest.mark.parametrize("passage, says", [
    ("", "Write a passage first"),
    ("the red fox runs far", "Mark a word to fill in"),
    ("[MASK] " * 200, "At most 20 blanks at once; this passage has 200"),
    ("a [MASK] " + "x" * 100_000, "the editor takes at most 2,000"),
])
def test_bad_passages_get_one_sentence_each(toy_bert, passage, says):
    with pytest.raises(gr.Error, match=says) as caught:
        _handler(text_edit.fill_blanks)(passage, toy_bert, 5)
    assert str(caught.value).count(". ") == 0  # one sentence


def test_masks_at_either_end_and_characters_the_model_does_not_know_are_answered(toy_bert):
    found, notes = _handler(text_edit.fill_blanks)("[MASK] red fox runs ☃ [MASK]", toy_bert, 2)
    assert len(found["blanks"]) == 2 and all(b["candidates"] for b in found["blanks"])
    assert "does not know 1 of the characters (☃)" in notes
    with pytest.raises(gr.Error, match="Fill the blanks first"):
        _handler(text_edit.rewrite_passage, seeds=("seed",))("the [MASK] fox", toy_bert, 1.0, "", 1)


@pytest.mark.slow  # the app's session server
def test_the_endpoints_answer_through_gradio_client(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    found, notes = client.predict("Good night, sweet [MASK].", fill.DEFAULT_MODEL, 5, api_name="/fill_mask")
    assert len(found["blanks"]) == 1 and len(found["blanks"][0]["candidates"]) == 5 and "1 blank(s)" in notes
    diff, text, notes = client.predict("Good night, sweet prince.", fill.DEFAULT_MODEL, 0.0, "night", 3,
                                       api_name="/rewrite")
    assert "night" in text.split()[1] and "Seed 3" in notes
    with pytest.raises(Exception, match="Mark a word to fill in"):
        client.predict("no blank here", fill.DEFAULT_MODEL, 5, api_name="/fill_mask")
    assert client.predict("ROMEO.\n", "shakespeare-gpt", 8, 0.8, 50, 0.95, 1, api_name="/generate_text")[0]


@needs_chromium
@pytest.mark.slow
@pytest.mark.usefixtures("no_run_training")
@pytest.mark.parametrize("locale, edit_tab", [("en-US", "Edit: fill in words"), ("zh-CN", "编辑：填词改写")])
def test_blank_a_word_pick_a_candidate_and_see_the_edited_passage(browser, app_url, locale, edit_tab, tmp_path):
    import os
    from pathlib import Path

    with open_page(browser, app_url, locale) as page:
        page.get_by_role("tab", name=edit_tab, exact=True).click()
        passage = page.locator("#edit-passage textarea")
        passage.wait_for(timeout=30_000)
        passage.fill("Good night, sweet prince: and flights of angels sing thee to thy rest!")
        passage.evaluate("t => { t.focus(); t.setSelectionRange(12, 17); t.dispatchEvent(new Event('select')); }")
        page.wait_for_timeout(300)  # the selection reaches the server before the button's click
        page.locator("#edit-blank").click()
        page.wait_for_function("() => document.querySelector('#edit-passage textarea').value.includes('[MASK] prince')",
                               timeout=30_000)
        page.locator("#edit-fill").click()
        choices = page.locator("#edit-pick-0 label")
        choices.first.wait_for(timeout=60_000)
        assert choices.count() == fill.TOP_K
        second = choices.nth(1)
        word = second.inner_text().split()[0]
        second.click()
        page.wait_for_function(f"() => document.querySelector('#edit-text textarea').value.includes('night, {word} prince')",
                               timeout=30_000)
        assert word in page.locator("#edit-result").inner_text()
        shots = Path(os.environ.get("AIGC_SCREENSHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"text-edit-{locale}.png"), full_page=True)
