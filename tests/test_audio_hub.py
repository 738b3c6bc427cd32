"""Hub audio models, offline: tiny random VITS (text to speech) and MusicGen (text to music) models and a tiny
StableAudio pipeline, built here and loaded by path through the audio pipeline as Hub models load; folders
that make no sound refused by name; an uncached Hub id, empty, over-long or unreadable text, a length or a
number of clips out of range answered with one sentence each."""

from __future__ import annotations

import json
import string

import numpy as np
import pytest
import torch

from aigc import limits
from aigc.data.audio import read_wav
from aigc.errors import AigcError
from aigc.pipelines import audio
from aigc.pipelines.audio_hub import LENGTH_NOT_USED

RATE = 8000


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models are all per-operation overhead: a second thread only waits for the first (and, on a busy
    machine, for a core)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory) -> str:
    """A tiny random VITS (the architecture of facebook/mms-tts-eng), a character tokenizer, 8 kHz."""
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder = tmp_path_factory.mktemp("tiny-vits")
    letters = ["<pad>", "<unk>", " ", *string.ascii_lowercase, "'", ",", ".", "?", "!"]
    (folder / "vocab.json").write_text(json.dumps({c: i for i, c in enumerate(letters)}))
    tokenizer = VitsTokenizer(str(folder / "vocab.json"), phonemize=False, add_blank=True)
    config = VitsConfig(vocab_size=len(letters), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=16,
                        flow_size=8, spectrogram_bins=9, upsample_initial_channel=16, upsample_rates=[4, 4],
                        upsample_kernel_sizes=[8, 8], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1]],
                        duration_predictor_filter_channels=16, duration_predictor_num_flows=1,
                        prior_encoder_num_flows=1, prior_encoder_num_wavenet_layers=1,
                        posterior_encoder_num_wavenet_layers=1, depth_separable_num_layers=1, sampling_rate=RATE)
    torch.manual_seed(0)
    VitsModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory) -> str:
    """A tiny random MusicGen: a T5 text encoder with a T5 tokenizer from a handmade vocabulary, an 8 kHz EnCodec
    of 50 frames a second and 2 codebooks, and the decoder, sampling as musicgen-small's generation config says."""
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        T5Config,
        T5Tokenizer,
    )

    folder = tmp_path_factory.mktemp("tiny-musicgen")
    pieces = ["<pad>", "</s>", "<unk>", "▁", *string.ascii_lowercase, *("▁" + c for c in string.ascii_lowercase)]
    tokenizer = T5Tokenizer(vocab=[(p, -1.0 - len(p)) for p in pieces], extra_ids=0)
    text = T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2,
                    relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    codec = EncodecConfig(sampling_rate=RATE, upsampling_ratios=[8, 5, 4], target_bandwidths=[0.6], codebook_size=64,
                          hidden_size=16, num_filters=4, num_lstm_layers=1, num_residual_layers=1)
    assert (codec.frame_rate, codec.num_quantizers) == (50, 2)
    decoder = MusicgenDecoderConfig(vocab_size=64, max_position_embeddings=256, num_hidden_layers=1, ffn_dim=32,
                                    num_attention_heads=2, hidden_size=16, num_codebooks=2, pad_token_id=64,
                                    bos_token_id=64)
    torch.manual_seed(0)
    model = MusicgenForConditionalGeneration(MusicgenConfig(text_encoder=text, audio_encoder=codec, decoder=decoder))
    with torch.no_grad():  # EnCodec's codebooks start at zero, which would decode every code alike
        for codebook in model.audio_encoder.quantizer.layers:
            codebook.codebook.embed.normal_()
    model.generation_config.do_sample = True
    model.generation_config.guidance_scale = 3.0
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_stable_audio(tmp_path_factory) -> str:
    """A tiny random StableAudioPipeline (the class of stabilityai/stable-audio-open-1.0): a T5 text encoder and
    tokenizer, the projection model, a one-layer DiT and a stereo Oobleck VAE at 8 kHz with 256 samples per latent
    frame; 32 latent frames make at most 1.024 s. Its scheduler is the pipeline's declared EDM DPM-Solver (the
    Hub model's cosine one needs torchsde)."""
    from diffusers import AutoencoderOobleck, EDMDPMSolverMultistepScheduler, StableAudioDiTModel, StableAudioPipeline
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    folder = tmp_path_factory.mktemp("tiny-stable-audio")
    pieces = ["<pad>", "</s>", "<unk>", "▁", *string.ascii_lowercase, *("▁" + c for c in string.ascii_lowercase)]
    tokenizer = T5Tokenizer(vocab=[(p, -1.0 - len(p)) for p in pieces], extra_ids=0, model_max_length=16)
    torch.manual_seed(0)
    text = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2,
                                   relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1))
    vae = AutoencoderOobleck(encoder_hidden_size=4, downsampling_ratios=[4, 8, 8], channel_multiples=[1, 2, 2],
                             decoder_channels=4, decoder_input_channels=4, audio_channels=2, sampling_rate=RATE)
    transformer = StableAudioDiTModel(sample_size=32, in_channels=4, num_layers=1, attention_head_dim=8,
                                      num_attention_heads=2, num_key_value_attention_heads=1, out_channels=4,
                                      cross_attention_dim=16, time_proj_dim=8, global_states_input_dim=32,
                                      cross_attention_input_dim=16)
    projection = StableAudioProjectionModel(text_encoder_dim=16, conditioning_dim=16, min_value=0, max_value=512)
    pipe = StableAudioPipeline(vae=vae, text_encoder=text, projection_model=projection, tokenizer=tokenizer,
                               transformer=transformer, scheduler=EDMDPMSolverMultistepScheduler())
    pipe.save_pretrained(folder / "pipeline")
    return str(folder / "pipeline")


def test_vits_speaks_seeded_clips_by_path(tiny_vits):
    said = audio.generate_audio("Hello, world!", tiny_vits, num_clips=2, seed=3)
    assert said.rate == RATE and said.clips.dtype == np.float32 and said.clips.shape[0] == 2
    assert said.said == ["Hello, world!"] * 2 and said.notes == []  # no length asked, none ignored
    assert np.abs(said.clips).max() <= 1 and said.clips.std(axis=1).min() > 0.01  # sound, within full scale
    again = audio.generate_audio("Hello, world!", tiny_vits, num_clips=1, seed=4)
    longest = again.clips.shape[1]
    assert np.array_equal(again.clips[0], said.clips[1][:longest])  # clip 1 of seed 3 is clip 0 of seed 4
    assert not np.any(said.clips[1][longest:])  # padded with silence
    other = audio.generate_audio("Hello, world!", tiny_vits, seed=5).clips[0]
    assert len(other) != longest or not np.allclose(other, again.clips[0])  # VITS's noise and durations follow the seed


def test_speech_takes_as_long_as_its_text_and_says_the_length_is_not_used(tiny_vits):
    short = audio.generate_audio("hi", tiny_vits, seed=0, seconds=3)
    long = audio.generate_audio("hi there, how are you today?", tiny_vits, seed=0, seconds=3)
    assert short.notes == long.notes == [LENGTH_NOT_USED]
    assert long.clips.shape[1] > short.clips.shape[1]


def test_musicgen_makes_the_length_asked_from_the_seed(tiny_musicgen):
    one = audio.generate_audio("a happy tune", tiny_musicgen, seed=1, seconds=1.0)
    assert one.clips.shape == (1, RATE) and one.rate == RATE and one.notes == []
    assert np.abs(one.clips).max() <= 1
    two = audio.generate_audio("a happy tune", tiny_musicgen, num_clips=2, seed=0, seconds=0.5)
    assert two.clips.shape == (2, RATE // 2)
    again = audio.generate_audio("a happy tune", tiny_musicgen, seed=1, seconds=0.5)
    np.testing.assert_array_equal(two.clips[1], again.clips[0])  # seed 0's second clip is seed 1's first
    assert not np.allclose(two.clips[0], two.clips[1])  # the tiny codec turns different codes into different sound


def test_a_diffusers_audio_pipeline_makes_the_length_asked_in_mono_from_the_seed(tiny_stable_audio):
    from aigc.progress import reporting

    told = []
    with reporting(lambda done, total: told.append((done, total))):
        two = audio.generate_audio("a dog barks", tiny_stable_audio, num_clips=2, seed=7, seconds=0.5)
    assert two.clips.shape == (2, RATE // 2) and two.rate == RATE and two.notes == []  # stereo made mono
    assert np.abs(two.clips).max() <= 1 and not np.allclose(two.clips[0], two.clips[1])
    assert told[-1] == (100, 100) and len(told) == 100  # each denoising step told, the pipeline's own 100
    one = audio.generate_audio("a dog barks", tiny_stable_audio, seed=8, seconds=0.5)
    np.testing.assert_allclose(one.clips[0], two.clips[1], atol=1e-4)  # clip 1 of seed 7 is clip 0 of seed 8
    with pytest.raises(AigcError, match=r"^length in seconds must be between 0\.5 and 1\.024 \(got 2\)\.$"):
        audio.generate_audio("a dog barks", tiny_stable_audio, seconds=2)  # the model's own longest sound


@pytest.mark.parametrize("named", ["DanceDiffusionPipeline", "StableAudio3AudioToAudioPipeline"])
def test_audio_pipelines_that_need_more_than_a_prompt_are_refused_before_loading(tmp_path, named):
    """Only model_index.json is there: the class alone decides, and no weights are read."""
    (tmp_path / named).mkdir()
    (tmp_path / named / "model_index.json").write_text(json.dumps({"_class_name": named}))
    with pytest.raises(AigcError, match=rf"^'{named}' is a {named}, not a text-to-audio pipeline; the Audio tab needs "
                                        r"one such as cvssp/audioldm2\.$"):
        audio.generate_audio("a dog barks", str(tmp_path / named))


def test_draw_writes_a_wav_the_page_plays(tiny_vits):
    wav, wave_png, spectrogram_png, summary = audio.draw("seven", tiny_vits, num_clips=2, seed=0, seconds=2)
    samples, rate = read_wav(wav)
    assert rate == RATE and summary["rate"] == RATE and summary["n"] == 2
    assert len(samples) == 2 * summary["length"] * RATE + int(audio.PAUSE * RATE)  # two clips and the pause
    assert summary["notes"] == [LENGTH_NOT_USED] and summary["said"] == "seven, seven"
    for png in (wave_png, spectrogram_png):
        assert png.endswith(".png")


def test_folders_that_make_no_sound_are_refused_by_name(tiny_sd, tiny_gpt2):
    with pytest.raises(AigcError, match=r"^'pipeline' is a StableDiffusionPipeline, not a sound generator\.$"):
        audio.generate_audio("a dog barks", str(tiny_sd))
    with pytest.raises(AigcError, match=rf"^'{tiny_gpt2.name}' is a gpt2 model, not a sound generator\.$"):
        audio.generate_audio("a dog barks", str(tiny_gpt2))


def test_an_uncached_hub_id_offline_is_one_sentence():
    with pytest.raises(AigcError, match=r"^'aigc-tests/no-such-tts' is not in the local cache and the Hugging Face Hub "
                                        r"cannot be reached"):
        audio.generate_audio("hello", "aigc-tests/no-such-tts")


def cached_on_the_hub(monkeypatch, cache, repo_id: str, folder=None) -> None:
    """`folder`'s files as the local Hub cache's snapshot of `repo_id` (a README alone without a folder), with
    huggingface_hub looking in `cache`: a Hub id that loads offline, as one fetched earlier does."""
    import shutil

    import huggingface_hub.constants

    commit = "0" * 40
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    if folder is not None:
        shutil.copytree(folder, snapshot)
    else:
        snapshot.mkdir(parents=True)
        (snapshot / "README.md").write_text("no model here")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))


def test_a_cached_hub_id_speaks_offline(tiny_vits, tmp_path, monkeypatch):
    cached_on_the_hub(monkeypatch, tmp_path / "hub", "aigc-tests/cached-tts", tiny_vits)
    said = audio.generate_audio("hello", "aigc-tests/cached-tts", seed=0)
    assert said.rate == RATE and said.clips.shape[0] == 1 and said.clips.std() > 0.01
    np.testing.assert_array_equal(said.clips, audio.generate_audio("hello", tiny_vits, seed=0).clips)  # the same model


def test_a_cached_hub_id_that_is_no_model_is_one_sentence(tmp_path, monkeypatch):
    cached_on_the_hub(monkeypatch, tmp_path / "hub", "aigc-tests/cached-readme")
    with pytest.raises(AigcError, match=r"^'aigc-tests/cached-readme' has neither a model_index\.json \(diffusers\) "
                                        r"nor a config\.json \(transformers\), so it is not a sound generator\.$"):
        audio.generate_audio("hello", "aigc-tests/cached-readme")


@pytest.mark.parametrize("what, options, words", [
    ("", {}, r"^Type what the model should say, or describe the sound or music to make\.$"),
    ("   ", {}, r"^Type what the model should say"),
    ("x" * 10_000, {}, r"^The text is 10,000 characters long; the limit is 1,000\.$"),
    ("hello", {"seconds": 0.1}, r"^length in seconds must be between 0\.5 and 30 \(got 0\.1\)\.$"),
    ("hello", {"seconds": 31}, r"^length in seconds must be between 0\.5 and 30 \(got 31\)\.$"),
    ("hello", {"seconds": float("nan")}, r"^length in seconds must be a finite number"),
    ("hello", {"num_clips": 0}, r"^number of clips must be between 1 and 16 \(got 0\)\.$"),
    ("hello", {"num_clips": 17}, r"^number of clips must be between 1 and 16 \(got 17\)\.$"),
    ("你好", {}, r"^'tiny-vits\d*' knows none of the characters in this text; type it in the model's own language\.$"),
])
def test_bad_input_is_one_sentence(tiny_vits, what, options, words):
    with pytest.raises(AigcError, match=words):
        audio.generate_audio(what, tiny_vits, **options)


def test_a_public_server_allows_shorter_sound_and_fewer_clips(tiny_vits):
    with limits.using(limits.PUBLIC):
        with pytest.raises(AigcError, match=r"between 0\.5 and 10 \(got 11\)"):
            audio.generate_audio("hello", tiny_vits, seconds=11)
        with pytest.raises(AigcError, match=r"between 1 and 8 \(got 9\)"):
            audio.generate_audio("hello", tiny_vits, num_clips=9)
        assert audio.generate_audio("hello", tiny_vits, seconds=10, num_clips=8).clips.shape[0] == 8


def test_the_new_sentences_read_in_chinese():
    from aigc.ui.i18n import translate

    for sentence in [LENGTH_NOT_USED, "Type what the model should say, or describe the sound or music to make.",
                     "'x' is a StableDiffusionPipeline, not a sound generator.",
                     "'x' is a gpt2 model, not a sound generator.",
                     ("'x' is a DanceDiffusionPipeline, not a text-to-audio pipeline; the Audio tab needs one such as "
                      "cvssp/audioldm2."),
                     "'x' knows none of the characters in this text; type it in the model's own language.",
                     ("'x' has neither a model_index.json (diffusers) nor a config.json (transformers), so it is not a "
                      "sound generator."),
                     "'x' does not say its sampling rate, so its sound cannot be played."]:
        chinese = translate(sentence, "zh")
        assert chinese != sentence and any("\u4e00" <= c <= "\u9fff" for c in chinese), sentence
