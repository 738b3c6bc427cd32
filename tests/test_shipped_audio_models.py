"""The shipped audio models say and sound as asked, by the judges' measure, and their cards say so. The
cards hold the figures of many clips; fresh clips drawn here, from other seeds, must come within sampling
error of them (conftest.sampling_allowance)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import sampling_allowance, shipped_card

from aigc.catalog import builtin_models
from aigc.data import sound_effects as sfx
from aigc.data.audio import DIGIT_WORDS, RATE
from aigc.evaluation import sound_effects as effect_judge
from aigc.evaluation import spoken_digits as digit_judge
from aigc.pipelines.audio import generate_audio

DIGITS_MODEL, EFFECTS_MODEL, WAVENET_MODEL = "mel-digits", "sfx-diffusion", "wavenet-digits"


def test_every_shipped_audio_model_is_listed_with_a_card_that_plays():
    shipped = {m.name: m for m in builtin_models() if m.task == "audio"}
    assert {DIGITS_MODEL, EFFECTS_MODEL, WAVENET_MODEL} <= set(shipped)
    for model in shipped.values():
        for name in ("samples.png", "samples.wav", "model.safetensors", "config.json"):
            assert (Path(model.location) / name).is_file(), (model.name, name)


@pytest.mark.slow  # an evaluation: 100 clips, judged
def test_the_digit_model_says_the_digit_asked_for_as_its_card_says():
    clips = np.concatenate([generate_audio(" ".join(DIGIT_WORDS), DIGITS_MODEL, seed=7000 + 10 * i).clips
                            for i in range(10)])
    assert clips.shape == (100, RATE) and np.abs(clips).max() <= 1
    digits = torch.arange(100) % 10
    accuracy = digit_judge.judge(torch.from_numpy(clips), digits)["digit_accuracy"]
    card = shipped_card("audio", DIGITS_MODEL)
    assert abs(accuracy - card["digit_accuracy"]) <= sampling_allowance(card["digit_accuracy"], 100), accuracy
    assert card["digit_accuracy"] > 0.85  # near the real clips' figure, far above the one in ten of chance
    assert "real_digit_accuracy" in card  # the baseline is beside it


@pytest.mark.slow  # an evaluation: 30 clips written sample by sample, judged
def test_the_wavenet_says_the_digit_asked_for_as_its_card_says():
    clips = np.concatenate([generate_audio(" ".join(DIGIT_WORDS), WAVENET_MODEL, seed=8000 + 10 * i).clips
                            for i in range(3)])
    assert clips.shape == (30, RATE) and np.abs(clips).max() <= 1
    accuracy = digit_judge.judge(torch.from_numpy(clips), torch.arange(30) % 10)["digit_accuracy"]
    card = shipped_card("audio", WAVENET_MODEL)
    assert abs(accuracy - card["digit_accuracy"]) <= sampling_allowance(card["digit_accuracy"], 30), accuracy
    assert card["digit_accuracy"] > 0.3  # three times chance; far from the real clips yet (see its card)


@pytest.mark.slow  # an evaluation: 100 clips, judged
def test_the_sound_effect_model_makes_the_kind_and_pitch_asked_for_as_its_card_says():
    wanted = effect_judge.eval_captions(100, seed=77)  # captions as the card's evaluation writes them, other ones
    clips = np.concatenate([generate_audio(sfx.caption(a), EFFECTS_MODEL, seed=9000 + i).clips
                            for i, a in enumerate(wanted)])
    scores = effect_judge.judge(torch.from_numpy(clips), wanted)
    card = shipped_card("audio", EFFECTS_MODEL)
    for word in ("kind", "pitch"):
        share, named = scores[f"{word}_agreement"], scores[f"{word}_clips"]
        assert abs(share - card[f"{word}_agreement"]) <= sampling_allowance(card[f"{word}_agreement"], named), (word, share)
    assert card["kind_agreement"] > 0.4  # far above the one in five of chance
