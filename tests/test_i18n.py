"""The page in English and Simplified Chinese: every word the tabs show goes through
aigc.ui.i18n, each key has both texts, and a browser set to zh-CN (or switched to 简体中文
in the footer's Settings) sees Chinese, one set to en-US English."""

import ast
import json
import os
import re
import tempfile
import urllib.request
from pathlib import Path

import pytest
from conftest import needs_chromium, open_page

from aigc.training import KINDS
from aigc.ui import I18N, build_demo, models_tab
from aigc.ui.i18n import TEXTS

UI = Path(__file__).resolve().parent.parent / "aigc" / "ui"
KEY = re.compile(r"""\bi18n\(\s*["']([^"']+)["']\s*\)""")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Words written as plain strings on purpose: the same in both languages (sampling names, the app's
# name) or an example input for models that only know English.
PLAIN = {"Top-k", "Top-p", "AIGC Studio", "# AIGC Studio\n", "blurry, low quality"}
# Arguments whose string the page shows as words.
SHOWN = {"label", "info", "placeholder", "title", "x_title", "y_title", "color_title"}
SHOWN_FIRST = {"Button", "Tab", "Accordion", "Markdown"}  # components whose first argument is shown words

TABS_EN = ["Text", "Image", "Conditional image", "Video", "Audio", "Edit image", "Train", "Models"]
TABS_ZH = ["文本", "图像", "条件图像", "视频", "音频", "图像编辑", "训练", "模型"]


def used_keys() -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for path in sorted(UI.glob("*.py")):
        if path.name == "i18n.py":  # the table itself, whose docstring shows i18n("key")
            continue
        for key in KEY.findall(path.read_text(encoding="utf-8")):
            keys.setdefault(key, set()).add(path.name)
    for kind in KINDS:  # the Train tab names each kind that trains by its key, i18n(f"train.kind.{kind}")
        keys.setdefault(f"train.kind.{kind}", set()).add("train_tab.py")
    return keys


def test_every_key_the_tabs_use_has_an_english_and_a_chinese_text():
    used = used_keys()
    assert len(used) > 50  # the scan found the tabs' keys
    assert set(used) - set(TEXTS) == set(), "keys without texts"
    assert set(TEXTS) - set(used) == set(), "texts no tab uses"
    words = I18N.translations_dict
    assert set(words) == {"en", "zh"} and set(words["en"]) == set(words["zh"]) == set(TEXTS)
    for key, (en, zh) in TEXTS.items():
        assert en.strip() and zh.strip(), key
        assert words["en"][key] == en and words["zh"][key] == zh


def test_no_chinese_text_is_a_copy_of_the_english():
    for key, (en, zh) in TEXTS.items():
        assert zh != en, f"{key}: the Chinese is the English"
        assert CJK.search(zh), f"{key}: no Chinese in {zh!r}"
        # Chinese punctuation after Chinese words: no half-width comma, colon or semicolon there
        assert not re.search(r"[\u4e00-\u9fff][,;:]", zh), f"{key}: half-width punctuation in {zh!r}"


def test_the_translated_models_table_header_has_the_tables_columns():
    en, zh = TEXTS["models.header"]
    cells = [c.strip() for c in en.strip("|").split("|")]
    assert cells == models_tab.COLUMNS
    assert len(zh.strip("|").split("|")) == len(cells)
    table = models_tab.table().splitlines()
    assert "models.header" in table[0] and table[1].count("---") == len(cells)
    assert all(row.count(" | ") == len(cells) - 1 for row in table[2:]) and len(table) > 3


def _shown_words(node: ast.AST):
    """String constants with letters in an argument, leaving out i18n("key") calls."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "i18n" or isinstance(node, ast.Compare):
        return
    if isinstance(node, ast.IfExp):  # the words are in the branches, not in the test
        yield from _shown_words(node.body)
        yield from _shown_words(node.orelse)
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"[A-Za-z]", node.value):
        yield node.value
    for child in ast.iter_child_nodes(node):
        yield from _shown_words(child)


def test_the_tabs_write_no_words_that_bypass_i18n():
    found = []
    for path in sorted(UI.glob("*.py")):
        if path.name == "i18n.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            args = [k.value for k in node.keywords if k.arg in SHOWN]
            if getattr(node.func, "attr", None) in SHOWN_FIRST and node.args:
                args.append(node.args[0])
            for arg in args:
                found += [f"{path.name}:{node.lineno}: {word!r}" for word in _shown_words(arg) if word not in PLAIN]
    assert found == []


def test_the_demo_launches_with_the_translations(app_url):
    """build_demo() is launched as the tests and app.py launch it (no i18n argument): the config
    served to the page carries both languages."""
    assert build_demo.__module__ == "aigc.ui"
    config = json.loads(urllib.request.urlopen(app_url + "config", timeout=30).read())
    words = config["i18n_translations"]
    assert words["zh"]["tab.text"] == "文本" and words["en"]["tab.text"] == "Text"


# ---------------------------------------------------------------- in the browser

def _tab_names(page) -> list[str]:
    return [t.strip() for t in page.locator("button[role=tab]").all_inner_texts()][:len(TABS_EN)]


def _wait_for_tabs(page, names: list[str]) -> None:
    page.wait_for_function("names => { const tabs = [...document.querySelectorAll('button[role=tab]')];"
                           " return names.every((n, i) => tabs[i] && tabs[i].innerText.trim() === n); }",
                           arg=names, timeout=30_000)


def _no_keys_shown(page, where: str) -> None:
    text = page.locator("body").inner_text()
    assert "__i18n__" not in text and "translation_metadata" not in text, where


@pytest.mark.slow  # a browser run, and a training run
@needs_chromium
@pytest.mark.usefixtures("no_run_training")  # it starts a run, which another test's run would make wait
def test_a_chinese_browser_sees_every_tab_in_chinese(browser, app_url):
    from gradio_client import Client

    shots = Path(os.environ.get("AIGC_SCREENSHOTS") or tempfile.mkdtemp(prefix="aigc-shots-"))
    shots.mkdir(parents=True, exist_ok=True)
    # a short GAN run, which the Train tab shows on opening: its discriminator plot appears after
    # the page is drawn, and its titles must be translated all the same
    Client(app_url, verbose=False).predict("dcgan", "digits", None, "i18n-gan", 10, 16, 2e-4, 0, 5,
                                           api_name="/start_training")
    with open_page(browser, app_url, "zh-CN") as page:
        _wait_for_tabs(page, TABS_ZH)
        assert _tab_names(page) == TABS_ZH
        assert page.locator("#text-generate").inner_text().strip() == "生成"
        assert "运行设备" in page.locator("#aigc-header").inner_text()
        for i, name in enumerate(["text", "image", "conditional", "video", "audio", "edit", "train", "models"]):
            page.locator("button[role=tab]").nth(i).click()
            page.wait_for_timeout(1000)
            _no_keys_shown(page, name)
            page.screenshot(path=str(shots / f"zh-{name}.png"), full_page=True)
        assert "参数量" in page.locator("#models-table").inner_text()  # the table's header row
        page.locator("button[role=tab][data-tab-id=train]").click()
        assert page.locator("#train-start").inner_text().strip() == "开始训练"
        page.wait_for_function("() => document.querySelector('#train-d').innerText.includes('判为真实的概率')",
                               timeout=30_000)
        assert "各训练步的损失" in page.locator("#train-loss").inner_text()
        page.locator("#train-kind input").click()
        assert "条件 GAN：按标签生成数字" in page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        # a label the server changes is translated too
        page.locator("button[role=tab]").nth(2).click()
        model = page.locator("#cond-model input")
        model.fill("text2img-shapes")
        model.press("Enter")
        page.wait_for_function("() => document.querySelector('#cond-condition label').innerText.includes('文字描述')",
                               timeout=30_000)
        page.screenshot(path=str(shots / "zh-conditional-caption.png"), full_page=True)
        _no_keys_shown(page, "conditional after a model change")


@pytest.mark.slow  # a browser run
@needs_chromium
def test_an_english_browser_sees_english_and_the_settings_switch_to_chinese(browser, app_url):
    with open_page(browser, app_url, "en-US") as page:
        _wait_for_tabs(page, TABS_EN)
        assert _tab_names(page) == TABS_EN
        _no_keys_shown(page, "English page")
        page.locator("footer button, footer a").filter(has_text="Settings").first.click()
        page.get_by_label("Language").last.click()
        page.get_by_role("option", name="简体中文").click()
        # every tab's name changes at once, not only the open tab's (see aigc.ui._relabel_tabs_on_language_change)
        _wait_for_tabs(page, TABS_ZH)
        page.locator(".backdrop").first.click(position={"x": 5, "y": 5})  # close Settings
        assert page.locator("#text-generate").inner_text().strip() == "生成"
        page.locator("button[role=tab][data-tab-id=train]").click()
        assert page.locator("#train-start").inner_text().strip() == "开始训练"
        _no_keys_shown(page, "switched to Chinese")


@pytest.mark.slow  # a browser run
@needs_chromium
def test_a_browser_in_another_language_sees_english(browser, app_url):
    with open_page(browser, app_url, "fr-FR") as page:
        _wait_for_tabs(page, TABS_EN)
        _no_keys_shown(page, "French page")
