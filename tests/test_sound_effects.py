"""`sound-effects` clips and their judge: each clip sounds as its caption says (by the judge's
measurements and its kind classifier), clips are a pure function of (seed, index), and captions
round-trip, in part or with unknown words."""

from __future__ import annotations

import random

import pytest
import torch

from aigc.data.audio import RATE
from aigc.data.sound_effects import (ATTRIBUTES, KINDS, VOCABULARY, caption, complete, parse_caption, render,
                                     sample_attributes, sound_effect, sound_effects)
from aigc.evaluation.sound_effects import judge, lengths, measure, words_heard


@pytest.fixture(scope="module")
def real():
    return sound_effects(150, seed=7)


def every_full_caption() -> list[dict[str, str]]:
    out = []
    for kind in KINDS:
        for pitch in VOCABULARY["pitch"]:
            for length in VOCABULARY["length"]:
                base = {"kind": kind, "pitch": pitch, "length": length}
                extra = {"chirp": "direction", "siren": "speed"}.get(kind)
                out += [{**base, extra: word} for word in VOCABULARY[extra]] if extra else [base]
    return out


def test_clips_are_a_pure_function_of_seed_and_index():
    a = sound_effects(6, seed=3)
    b = sound_effects(6, seed=3)
    assert torch.equal(a.audio, b.audio) and a.captions == b.captions and a.attributes == b.attributes
    tail = sound_effects(2, seed=3, start=4)  # clip i does not depend on how many are asked for
    assert torch.equal(tail.audio, a.audio[4:]) and tail.attributes == a.attributes[4:]
    clip, attrs = sound_effect(3, 5)
    assert torch.equal(clip, a.audio[5]) and attrs == a.attributes[5]
    assert not torch.equal(sound_effects(6, seed=4).audio, a.audio)
    assert all(not torch.equal(a.audio[i], a.audio[j]) for i in range(6) for j in range(i))


def test_clips_are_one_second_peak_normalised_with_silence_after(real):
    assert real.audio.shape == (150, RATE) and real.audio.dtype == torch.float32
    assert torch.allclose(real.audio.abs().amax(1), torch.full((150,), 0.9))
    for clip, attrs in zip(real.audio, real.attributes):
        if attrs["length"] == "short":
            assert clip[int(0.3 * RATE):].abs().max() == 0
        assert clip[int(0.95 * RATE):].abs().max() == 0


def test_every_word_is_drawn_and_only_where_it_applies(real):
    seen = {k: {a[k] for a in real.attributes if k in a} for k in ATTRIBUTES}
    assert seen == {k: set(v) for k, v in VOCABULARY.items()}
    for attrs in real.attributes:
        assert ("direction" in attrs) == (attrs["kind"] == "chirp")
        assert ("speed" in attrs) == (attrs["kind"] == "siren")
    assert real.captions == tuple(caption(a) for a in real.attributes)


def test_each_clip_sounds_as_its_caption_says(real):
    """The data test: the judge's measurements and its kind classifier agree with every word."""
    scores = judge(real.audio, list(real.captions))
    for attr in ATTRIBUTES:
        assert scores[f"{attr}_agreement"] >= (0.98 if attr == "kind" else 1.0), (attr, scores)
    assert scores["no_sound_effect"] <= 0.02
    assert scores["kind_clips"] == scores["pitch_clips"] == scores["length_clips"] == 150


@pytest.mark.parametrize("attrs", every_full_caption(), ids=caption)
def test_every_caption_is_measured_as_itself(attrs):
    rng = random.Random(hash(caption(attrs)) % 1000)
    clips = torch.stack([render(attrs, rng) for _ in range(3)])
    for row in measure(clips):
        heard = words_heard(row, attrs["kind"])
        assert {k: heard[k] for k in attrs if k != "kind"} == {k: v for k, v in attrs.items() if k != "kind"}, row


def test_length_is_the_time_above_the_threshold():
    clip = torch.zeros(1, RATE)
    t = torch.arange(RATE) / RATE
    clip[0, 800:3200] = torch.sin(2 * torch.pi * 300 * t[800:3200])
    assert lengths(clip).item() == pytest.approx(0.3, abs=0.011)
    assert lengths(torch.zeros(1, RATE)).item() == 0


def test_a_steady_tone_is_neither_rising_nor_falling_and_its_pitch_is_measured():
    t = torch.arange(RATE) / RATE
    tone = torch.sin(2 * torch.pi * 150 * t) * (t < 0.7)
    row = measure(tone[None])[0]
    assert row["pitch_hz"] == pytest.approx(150, rel=0.01) and abs(row["octaves"]) < 0.05
    assert words_heard(row, "chirp") == {"pitch": "low", "length": "long", "direction": None, "speed": "slow"}


def test_judge_catches_wrong_captions_and_noise(real):
    swapped = list(real.attributes[1:]) + [real.attributes[0]]
    scores = judge(real.audio, swapped)
    assert scores["kind_agreement"] < 0.4 and scores["pitch_agreement"] < 0.7 and scores["length_agreement"] < 0.7
    noise = torch.randn(40, RATE, generator=torch.Generator().manual_seed(0)) * 0.3
    noisy = judge(noise, list(real.captions[:40]))
    assert noisy["kind_agreement"] < 0.3 and noisy["length_agreement"] < 0.7
    silent = judge(torch.zeros(10, RATE), list(real.captions[:10]))
    assert silent["no_sound_effect"] >= 0.9 and silent["length_agreement"] == 0


def test_judge_reads_partial_captions_and_attribute_dicts(real):
    captions = ["a chirp", "a long sound", "a fast siren whistle", "a rising drum", "hello"]
    scores = judge(real.audio[:5], captions)
    assert scores["kind_clips"] == 3 and scores["length_clips"] == 1 and scores["speed_clips"] == 1
    assert "direction_clips" not in scores and "pitch_clips" not in scores  # a drum does not rise
    assert judge(real.audio[:5], list(real.attributes[:5])) == judge(real.audio[:5], list(real.captions[:5]))
    with pytest.raises(ValueError):
        judge(real.audio[:5], captions[:4])


def test_parse_caption_of_partial_and_unknown_words():
    assert parse_caption("a long high rising chirp") == {"kind": "chirp", "pitch": "high", "length": "long",
                                                         "direction": "rising"}
    assert parse_caption("A LOUD, fast Siren!!") == {"kind": "siren", "speed": "fast"}
    assert parse_caption("a rising drum") == {"kind": "drum"}  # only chirps rise or fall
    assert parse_caption("a slow rising sound") == {"direction": "rising", "speed": "slow"}
    assert parse_caption("zebra xylophone") == {} and parse_caption("") == {}
    assert parse_caption("low high short") == {"pitch": "low", "length": "short"}  # the first word wins


def test_complete_keeps_what_is_named_and_draws_the_rest():
    rng = random.Random(0)
    for _ in range(50):
        assert complete({"direction": "falling"}, rng)["kind"] == "chirp"
        siren = complete({"speed": "slow", "pitch": "low"}, rng)
        assert set(siren) == {"kind", "pitch", "length", "speed"}
        assert (siren["kind"], siren["speed"], siren["pitch"]) == ("siren", "slow", "low")
        full = complete({"kind": "drum", "direction": "rising"}, rng)
        assert set(full) == {"kind", "pitch", "length"} and full["kind"] == "drum"
        assert parse_caption(caption(full)) == full
    assert {complete({}, rng)["kind"] for _ in range(100)} == set(KINDS)


def test_caption_round_trip_for_every_subset():
    rng = random.Random(1)
    for _ in range(200):
        attrs = sample_attributes(rng)
        part = {k: v for k, v in attrs.items() if rng.random() < 0.5}
        text = caption(part)
        assert parse_caption(text) == part, text
        assert text.startswith("a ") and (part.get("kind") or "sound") == text.split()[-1]
    assert caption({"kind": "chirp", "pitch": "high", "length": "long", "direction": "rising"}) == \
        "a long high rising chirp"
    assert caption({}) == "a sound"

