"""Model cards through huggingface_hub's ModelCard: the shipped cards read as they always did, a
written card reads back, and `python -m aigc eval`'s update keeps every other fact."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard

from aigc.cards import card_title, read_card, render_card, update_metrics, write_card
from aigc.paths import CHECKPOINTS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(CHECKPOINTS.glob("*/*/README.md"))


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---", 2)[1])


@pytest.mark.parametrize("readme", SHIPPED, ids=[p.parent.name for p in SHIPPED])
def test_a_shipped_card_reads_the_same_facts(readme):
    text = readme.read_text(encoding="utf-8")
    card = read_card(readme.parent)
    assert card == front_matter(text) and {"task", "kind", "metrics"} <= set(card)
    assert card_title(readme.parent) == next(line[2:] for line in text.splitlines() if line.startswith("# "))
    card["metrics"]["changed"] = 1  # a copy: the next reader sees the file's facts
    assert "changed" not in read_card(readme.parent)["metrics"]


def test_a_written_card_is_a_hub_model_card_and_reads_back(tmp_path):
    meta = {**read_card(CHECKPOINTS / "image" / "dcgan-digits"), "name": "mine", "measured_by": "trainer",
            "command": "python -m aigc train dcgan --dataset digits --steps 5000 --seed 0 --out runs/a-rather-long-name"}
    write_card(tmp_path, meta)
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert ModelCard.load(tmp_path / "README.md").data.to_dict() == meta == read_card(tmp_path)
    assert list(front_matter(text)) == list(meta)  # the facts in the order given
    assert card_title(tmp_path) == "`mine`: a DCGAN trained on `digits`"
    assert text == render_card(meta) and "Measured by the trainer at the best step (5,000)" in text


def test_updating_the_metrics_keeps_every_other_fact_and_renders_the_body_again(tmp_path):
    shutil.copy(CHECKPOINTS / "conditional" / "cgan-digits" / "README.md", tmp_path / "README.md")
    before, order = read_card(tmp_path), list(front_matter((tmp_path / "README.md").read_text(encoding="utf-8")))
    after = update_metrics(tmp_path, {"label_accuracy": 0.123456, "new_figure": 7.0})
    assert after == read_card(tmp_path)
    assert after["metrics"] == {**before["metrics"], "label_accuracy": 0.1235, "new_figure": 7}
    assert {k: v for k, v in after.items() if k != "metrics"} == {k: v for k, v in before.items() if k != "metrics"}
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert list(front_matter(text)) == order  # the file keeps its facts in their order
    assert "**12.3% of 1,000 samples as the requested digit**" in text


def test_reading_cards_imports_no_training_module():
    code = ("import sys; from aigc.cards import read_card; read_card('checkpoints/image/dcgan-digits'); "
            "print(sorted(m for m in sys.modules if m.startswith('aigc.training') or m == 'torch'))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
