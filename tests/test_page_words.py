"""Small things the page and the README say, checked against what the app does."""

import re
from pathlib import Path

import pandas as pd

from aigc import limits
from aigc.cards import read_card
from aigc.paths import CHECKPOINTS
from aigc.ui.i18n import TEXTS, say
from aigc.ui.notes import images_note

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_guides_cddpm_digits_as_its_card_and_the_app_do():
    guidance = read_card(CHECKPOINTS / "conditional" / "cddpm-digits")["guidance"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r'model="cddpm-digits", guidance_scale=([\d.]+)', readme)
    assert shown and all(float(g) == guidance for g in shown)
    said = re.search(r"\(([\d.]+) and 25 for `cddpm-digits`", readme)
    assert said and float(said.group(1)) == guidance


def test_the_scheduler_hint_asks_for_no_more_steps_than_the_slider_has():
    for text in TEXTS["image.scheduler_info"]:
        assert "hundreds" not in text and "几百" not in text
        assert "slider" in text or "滑块" in text


def test_a_page_at_the_size_limit_says_it_drew_the_most_a_request_draws():
    most = limits.current().max_images
    assert "the most one request draws" in images_note(7, most, 0.5)
    assert "the most" not in images_note(7, most - 1, 0.5)
    assert "单次请求最多" in images_note(7, most, 0.5, request=type("Page", (), {"cookies": {"aigc-lang": "zh-CN"}})())


def test_the_legend_lists_one_name_per_curve_and_a_gan_loss_plot_claims_no_validation():
    from aigc.ui import train_tab

    rows = pd.DataFrame({"step": [1, 1, 1, 1], "series": ["D(G(z))", "D(G(z)) (raw)", "D(x)", "D(x) (raw)"],
                         "value": [0.1] * 4, "kind": ["smoothed", "raw", "smoothed", "raw"]})
    assert train_tab._legend(rows) == ["D(G(z))", "D(x)"]
    assert "validation" not in TEXTS["train.loss_plot"][0] and "验证" not in TEXTS["train.loss_plot"][1]
    assert say("en", "series.raw", name="D(x)") == "D(x) (raw)"


def test_the_inpaint_editor_label_is_short_enough_for_its_toolbar():
    # the editor's toolbar sits over the right of its label; the instruction is a line above it
    assert all(len(text) <= 12 for text in TEXTS["cond.editor_label"])
    assert "paint over" in TEXTS["cond.editor"][0]


def test_every_sentence_the_server_writes_has_both_languages_with_the_same_fields():
    import string

    from aigc.ui.i18n import SAID, SENTENCES

    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    words = (ROOT / "aigc" / "ui" / "i18n.py").read_text(encoding="utf-8")
    ui = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "aigc" / "ui").glob("*.py") if p.name != "i18n.py")
    ui += words[words.index("def language("):]  # the functions beside the table use some keys themselves
    for key, (en, zh) in SAID.items():
        assert fields(zh) <= fields(en), key  # (a Chinese sentence may stand for an English message)
        assert re.search(r"[\u4e00-\u9fff「」]", zh), key
        family = key.split(".")[0]
        assert key in ui or family in ("series", "state", "metric", "end", "note"), f"{key} is not used"
    for pattern, zh in SENTENCES:
        assert fields(zh) <= set(re.compile(pattern).groupindex), pattern
