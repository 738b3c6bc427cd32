"""Audio: the spoken-digits data and its judge, the spectrogram diffusion model's training step, and the
audio pipeline (what it accepts, what it refuses, the files it writes) on a small random model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aigc import limits
from aigc.data import audio as data
from aigc.errors import AigcError
from aigc.pipelines import audio


@pytest.fixture(scope="module")
def tiny_sfx(tmp_path_factory):
    """A random, untrained sound-effect model (caption attributes), saved as training saves one: the 2-D
    network, where `tiny_mel` (conftest) is the 1-D one."""
    from safetensors.torch import save_file

    from aigc.data import sound_effects as sfx
    from aigc.models.mel_diffusion import MelUNet2D

    folder = tmp_path_factory.mktemp("tiny-sfx")
    torch.manual_seed(0)
    vocabulary = {a: list(sfx.VOCABULARY[a]) for a in sfx.ATTRIBUTES}
    net = MelUNet2D(widths=(8, 16, 16), attributes=tuple(len(v) for v in vocabulary.values()))
    (folder / "config.json").write_text(json.dumps({"kind": "mel-diffusion", "task": "audio", **net.config,
                                                    "frames": data.FRAMES, "guidance": 2.0, "sample_steps": 3,
                                                    "vocabulary": vocabulary}))
    save_file(net.state_dict(), folder / "model.safetensors")
    return str(folder)


def test_voices_never_cross_splits_and_every_split_has_every_digit_and_both_engines():
    voices = {split: set(data.spoken_digits(split).voice) for split in data.SPLITS}
    assert not voices["train"] & voices["judge"] and not voices["train"] & voices["test"]
    assert not voices["judge"] & voices["test"]
    for split, clips in ((s, data.spoken_digits(s)) for s in data.SPLITS):
        assert torch.bincount(clips.digit, minlength=10).min() > 0, split
        assert {v.split(":")[0] for v in clips.voice} == {"espeak", "flite"}, split
        assert clips.audio.shape[1] == data.RATE * data.SECONDS and clips.audio.abs().max() <= 1
        loud = clips.audio.abs().amax(1)
        assert loud.min() > 0.3, split  # every clip says something: none is silent


def test_each_clip_says_its_digit_by_the_judge_including_voices_the_judge_never_heard():
    from aigc.evaluation.spoken_digits import judge

    for split in ("train", "test"):
        clips = data.spoken_digits(split)
        scores = judge(clips.audio, clips.digit)
        assert scores["digit_accuracy"] >= 0.85, (split, scores)


def test_noise_and_silence_are_not_digits_to_the_judge():
    from aigc.evaluation.spoken_digits import judge

    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(40, data.RATE, generator=gen) * 0.3
    assert judge(noise)["confident_digits"] <= 0.1
    assert judge(torch.zeros(10, data.RATE))["confident_digits"] <= 0.1


def test_mu_law_round_trip_keeps_the_sound():
    clips = data.spoken_digits("test").audio[:8]
    codes = data.mu_law(clips)
    assert codes.min() >= 0 and codes.max() <= 255
    back = data.from_mu_law(codes)
    assert (back - clips).abs().max() < 0.05 and (back - clips).pow(2).mean().sqrt() < 0.01


def test_griffin_lim_turns_spectrograms_back_into_the_same_words():
    from aigc.evaluation.spoken_digits import judge

    clips = data.spoken_digits("test")
    pick = torch.arange(0, len(clips), 3)
    x = data.to_model_scale(clips.audio[pick])
    assert x.shape == (len(pick), data.MELS, data.FRAMES) and x.min() >= -1 and x.max() <= 1
    heard = judge(data.mel_to_audio(data.from_model_scale(x)), clips.digit[pick])
    assert heard["digit_accuracy"] >= 0.8, heard


def test_a_wav_is_written_and_read_back(tmp_path):
    wave = np.sin(np.linspace(0, 200, data.RATE)).astype(np.float32) * 0.5
    samples, rate = data.read_wav(data.write_wav(tmp_path / "a.wav", wave))
    assert rate == data.RATE and np.abs(samples - wave).max() < 1e-3


@pytest.mark.parametrize("net", ["1d", "2d"])
def test_the_spectrogram_models_training_step_lowers_its_loss(net):
    from aigc.training import make_config
    from aigc.training.audio import MelDiffusionTask
    from aigc.training.trainer import make_accelerator

    config = make_config("mel-diffusion", "spoken-digits", net=net, width=16, embed=32, batch_size=16, lr=3e-3)
    task = MelDiffusionTask(config, make_accelerator(config), None)
    task.noise.manual_seed(0)
    state = task.noise.get_state()
    first = None
    for step in range(40):
        task.noise.set_state(state)  # the same batch, noise and timesteps each time
        loss = task.train_step(step)["loss"]
        first = loss if first is None else first
    assert loss < 0.7 * first, (first, loss)


@pytest.mark.parametrize("said, digits", [("seven", [7]), ("3 1 4", [3, 1, 4]), ("Say ZERO, then nine!", [0, 9]),
                                          ("314", [3, 1, 4]), ("oh", [0])])
def test_digits_are_read_from_words_and_numerals(said, digits):
    assert audio.digits_in(said) == digits


@pytest.mark.parametrize("what, words", [("hello", "names none of them"), ("", "Type the digits to say"),
                                         ("x" * 10_000, "the limit is")])
def test_text_without_a_digit_gets_one_sentence(tiny_mel, what, words):
    with pytest.raises(AigcError, match=words):
        audio.generate_audio(what, tiny_mel)


@pytest.mark.parametrize("kwargs, words", [({"num_clips": 0}, "number of clips"), ({"num_clips": 17}, "number of clips"),
                                           ({"steps": 0}, "steps"), ({"guidance": -1}, "guidance"),
                                           ({"seed": -5}, "seed")])
def test_numbers_out_of_range_get_one_sentence(tiny_mel, kwargs, words):
    with pytest.raises(AigcError, match=words):
        audio.generate_audio("seven", tiny_mel, **kwargs)


def test_too_many_clips_in_all_get_one_sentence(tiny_mel):
    with limits.using(limits.PUBLIC), pytest.raises(AigcError, match="the limit is 8"):
        audio.generate_audio("1 2 3", tiny_mel, num_clips=3)


def test_clips_are_drawn_one_per_digit_and_the_seed_fixes_them(tiny_mel):
    one = audio.generate_audio("3 1", tiny_mel, num_clips=2, seed=5)
    assert one.clips.shape == (4, data.RATE) and one.said == ["three", "three", "one", "one"] and one.rate == data.RATE
    assert np.abs(one.clips).max() <= 1 and not np.allclose(one.clips[0], one.clips[1])  # two takes differ
    again = audio.generate_audio("3 1", tiny_mel, num_clips=2, seed=5)
    assert np.array_equal(one.clips, again.clips)
    assert not np.array_equal(one.clips, audio.generate_audio("3 1", tiny_mel, num_clips=2, seed=6).clips)


def test_the_page_gets_a_wav_a_waveform_and_a_spectrogram(tiny_mel):
    from PIL import Image

    wav, wave, spectrogram, said = audio.draw("4 2", tiny_mel, seed=1)
    samples, rate = data.read_wav(wav)
    assert rate == data.RATE and len(samples) == int(data.RATE * (2 + audio.PAUSE))  # two clips, one pause
    assert said["n"] == 2 and said["said"] == "four, two" and said["length"] == 1.0
    for picture in (wave, spectrogram):
        with Image.open(picture) as im:
            assert im.width >= 320 and np.asarray(im.convert("L")).std() > 5  # something is drawn


def test_the_controls_follow_the_models_config(tiny_mel):
    takes = audio.controls(tiny_mel)
    assert takes.kind == "hub"  # a folder typed on the web is not looked at: it reads as a Hub id
    assert audio.controls("no-such-model/x").kind == "hub"


@pytest.mark.slow  # the app's session server
def test_the_endpoint_answers_through_gradio_client_with_a_wav_and_two_pictures(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    wav, wave, spectrogram, notes = client.predict("seven 7", audio.DEFAULT_MODEL, 2, 5, 16, 2.0, 1.0, 5.0,
                                                   api_name="/generate_audio")
    samples, rate = data.read_wav(wav)
    assert rate == data.RATE and len(samples) == int(data.RATE * (4 + 3 * audio.PAUSE))  # 2 digits x 2 clips
    assert "4 clip(s)" in notes and "Seed 5" in notes
    with pytest.raises(Exception, match="names none of them"):
        client.predict("hello", audio.DEFAULT_MODEL, 1, 5, 16, 2.0, 1.0, 5.0, api_name="/generate_audio")


def test_a_caption_is_read_for_its_known_words_and_the_rest_is_said_to_be_left_out(tiny_sfx):
    made = audio.generate_audio("a long high rising chirp, please", tiny_sfx, num_clips=2, seed=1)
    assert made.clips.shape == (2, data.RATE) and made.said == ["a long high rising chirp"] * 2
    assert made.notes == ["Words it does not know were left out: please."]
    assert audio.generate_audio("siren", tiny_sfx, seed=1).said == ["a siren"]
    assert np.array_equal(made.clips, audio.generate_audio("a long high rising chirp", tiny_sfx, num_clips=2, seed=1).clips)


@pytest.mark.parametrize("what", ["hello world", "", "sound"])
def test_a_caption_without_a_known_word_gets_one_sentence_with_the_words_it_knows(tiny_sfx, what):
    with pytest.raises(AigcError, match="names no sound this model knows.*pluck, drum, chirp"):
        audio.generate_audio(what, tiny_sfx)
