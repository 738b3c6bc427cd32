"""Data smaller than a batch, and data no judge scores: the run says what it did, and shows no made-up score."""

import io
import json
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

import aigc
from aigc.cards import read_card
from aigc.training.events import read_metrics

TINY = dict(steps=4, batch_size=64, eval_every=2, sample_every=4, checkpoint_every=4)


@pytest.fixture
def three_pictures(tmp_path):
    """A .zip of 3 small RGB pictures: fewer than one batch of 64."""
    path = tmp_path / "three.zip"
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(3):
            buffer = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(buffer, "PNG")
            archive.writestr(f"picture-{i}.png", buffer.getvalue())
    return str(path)


def test_a_batch_larger_than_the_data_shrinks_to_it_and_the_run_says_so(tmp_path, three_pictures):
    events = list(aigc.train("dcgan", three_pictures, out=tmp_path / "run", width=8, z_dim=8, **TINY))
    start = events[0]
    assert start.type == "start" and any("3 pictures" in note and "batch size is 3" in note for note in start.data["notes"])
    assert read_metrics(tmp_path / "run" / "metrics.jsonl")[0].data["notes"] == start.data["notes"]  # what the Train tab reads
    assert json.loads((tmp_path / "run" / "config.json").read_text())["batch_size"] == 3
    step = next(e for e in events if e.type == "step")
    assert step.data["samples_per_s"] == pytest.approx(3 * step.data["steps_per_s"])  # pictures it really trained on
    card = read_card(tmp_path / "run" / "best")
    assert card["batch_size"] == 3


def test_pictures_no_judge_knows_get_no_score_and_the_newest_weights_are_kept(tmp_path, three_pictures):
    events = list(aigc.train("dcgan", three_pictures, out=tmp_path / "run", width=8, z_dim=8, **TINY))
    evals = [e for e in events if e.type == "eval"]
    assert len(evals) == 2 and all(e.data["best"] for e in evals)  # each evaluation keeps the newest weights
    assert all(not any(isinstance(v, float) for v in e.data.values()) for e in evals), [e.data for e in evals]
    end = events[-1]
    assert end.data["reason"] == "finished" and "score" not in end.data["message"] and not re.search(r"-\d", end.data["message"])
    assert "newest" in end.data["message"] and end.data["best_step"] == 4
    card = read_card(tmp_path / "run" / "best")
    assert "score" not in card["metrics"]


def test_a_vae_on_pictures_without_a_held_out_split_names_its_loss_after_the_training_images(tmp_path, three_pictures):
    events = list(aigc.train("vae", three_pictures, out=tmp_path / "run", width=8, latent=4, **TINY))
    evals = [e.data for e in events if e.type == "eval"]
    assert "train_loss" in evals[-1] and not any(k.startswith("val_") for k in evals[-1])
    assert "train_loss" in events[-1].data["message"]
