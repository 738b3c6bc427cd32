"""WaveNet vocoder: cached (Fast WaveNet) generation computes what the teacher-forced network computes with
its conditioning, each sample hears the spectrogram frame the alignment rule gives it, the receptive field is
what the property says, batches of clips come out whole, training learns, and the app's path (a spectrogram
model draws, the WaveNet writes) makes one-second clips."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from aigc.models.wavenet import SILENCE, CachedWaveNet, WaveNet

MELS, HOP = 6, 8  # a tiny spectrogram: 6 bands, a frame every 8 samples


def tiny(seed: int = 0, mels: int | None = MELS) -> WaveNet:
    torch.manual_seed(seed)
    model = WaveNet(residual=8, skip=16, layers=4, stacks=2, mels=mels, mel_width=8, hop=HOP).eval()
    with torch.no_grad():  # weights large enough that the logits differ clearly from step to step
        for p in model.parameters():
            p.normal_(0, 0.4)
    return model


def spectrograms(n: int, frames: int = 12, seed: int = 3) -> torch.Tensor:
    return torch.randn(n, MELS, frames, generator=torch.Generator().manual_seed(seed))


def teacher_forced(model: WaveNet, codes: torch.Tensor, labels: torch.Tensor, mels) -> torch.Tensor:
    """The logits `forward` gives for the clip the generator wrote, from silence."""
    inputs = torch.cat([torch.full((len(codes), 1), SILENCE), codes[:, :-1]], 1)
    with torch.no_grad():
        return model(inputs, labels, mels)


@pytest.mark.parametrize("mels", [MELS, None])
def test_cached_steps_give_the_logits_of_the_whole_sequence(mels):
    model = tiny(mels=mels)
    labels = torch.tensor([0, 4, 9, 10])  # 10: no label
    spectrogram = spectrograms(4) if mels else None
    codes = torch.randint(0, 256, (4, 90), generator=torch.Generator().manual_seed(1))  # past the last frame
    full = teacher_forced(model, codes, labels, spectrogram)
    cache = CachedWaveNet(model, labels, spectrogram)
    steps = [cache.step(c).clone() for c in torch.cat([torch.full((4, 1), SILENCE), codes[:, :-1]], 1).t()]
    assert torch.allclose(torch.stack(steps, 2), full, atol=1e-4, rtol=1e-4)


def test_each_sample_hears_the_frame_centred_nearest_to_it():
    model = tiny()
    labels, mel = torch.tensor([5]), spectrograms(1)
    codes = torch.randint(0, 256, (1, 80), generator=torch.Generator().manual_seed(4))
    changed = mel.clone()
    changed[:, :, 5] += 1.0  # frame 5: the biases of frames 4, 5 and 6 (the reading convolution spans 3)
    before, after = teacher_forced(model, codes, labels, mel), teacher_forced(model, codes, labels, changed)
    differs = (before - after).abs().amax(1)[0] > 1e-5
    # sample t takes frame round(t / HOP), ties upward: frame 4 begins at sample 28 (28 / 8 = 3.5), and
    # what a sample hears flows on to the later ones
    first = int(torch.nonzero(differs)[0])
    assert first == 28 and differs[first:first + 8].all()


def test_changing_the_spectrogram_changes_the_clip():
    model = tiny()
    labels = torch.tensor([2, 2])
    mel = spectrograms(1).expand(2, -1, -1).clone()
    mel[1] = spectrograms(1, seed=9)[0]
    codes = model.generate(labels, mel, 80, temperature=0)
    assert not torch.equal(codes[0], codes[1])  # same digit, same (greedy) choices: only the spectrogram differs
    assert torch.equal(model.generate(labels[:1], mel[:1], 80, temperature=0), codes[:1])


def test_greedy_generation_equals_argmax_of_forward():
    model = tiny()
    labels, mel = torch.tensor([2, 7]), spectrograms(2)
    codes = model.generate(labels, mel, 80, temperature=0)
    assert codes.shape == (2, 80) and len(codes.unique()) > 3  # not stuck on one code
    assert torch.equal(teacher_forced(model, codes, labels, mel).argmax(1), codes)


def test_sampled_generation_follows_forward_with_the_same_noise():
    model = tiny()
    labels, mel = torch.tensor([3, 3, 5]), spectrograms(3)
    codes = model.generate(labels, mel, 90, temperature=0.8, generator=torch.Generator().manual_seed(5))
    # the same Gumbel noise the generator drew (one chunk of draws)
    uniform = torch.rand(90, 3, 256, generator=torch.Generator().manual_seed(5)).clamp_(1e-10, 1 - 1e-7)
    gumbel = -torch.log(-torch.log(uniform)).permute(1, 2, 0)
    again = (teacher_forced(model, codes, labels, mel) / 0.8 + gumbel).argmax(1)
    assert torch.equal(again, codes)
    other = model.generate(labels, mel, 90, temperature=0.8, generator=torch.Generator().manual_seed(6))
    assert not torch.equal(other, codes)


def test_receptive_field():
    model = tiny()
    assert model.receptive_field == 2 + 2 * (1 + 2 + 4 + 8) == 32
    length = 60
    codes = torch.randint(0, 256, (1, length), generator=torch.Generator().manual_seed(2))
    label, mel = torch.tensor([1]), spectrograms(1)
    last = lambda c: model(c, label, mel)[0, :, -1]
    with torch.no_grad():
        base = last(codes)
        inside, outside = codes.clone(), codes.clone()
        inside[0, length - model.receptive_field] = (codes[0, length - model.receptive_field] + 100) % 256
        outside[0, length - model.receptive_field - 1] = (codes[0, length - model.receptive_field - 1] + 100) % 256
        assert not torch.allclose(last(inside), base)
        assert torch.equal(last(outside), base)


def test_a_conditioned_model_asks_for_its_spectrogram():
    with pytest.raises(ValueError, match="mel"):
        tiny().generate(torch.tensor([1]), None, 10)


def test_a_batch_of_clips_with_progress_reports():
    model = tiny()
    seen = []
    codes = model.generate(torch.tensor([0, 6, 10]), spectrograms(3, frames=220), 1700,
                           generator=torch.Generator().manual_seed(0),
                           on_chunk=lambda done, so_far: seen.append((done, tuple(so_far.shape))))
    assert codes.shape == (3, 1700) and codes.dtype == torch.long
    assert 0 <= codes.min() and codes.max() < 256
    assert seen == [(800, (3, 800)), (1600, (3, 1600)), (1700, (3, 1700))]
    # clips in one batch are drawn independently: not copies of one another
    assert not torch.equal(codes[0], codes[1])


def test_generate_leaves_the_thread_count_as_it_was():
    threads = torch.get_num_threads()
    tiny().generate(torch.tensor([1]), spectrograms(1), 10)
    assert torch.get_num_threads() == threads


@pytest.mark.slow  # imports the training package (accelerate, torchvision): over 10 s on 2 loaded cores
def test_training_crops_line_up_with_their_frames():
    from aigc.data.audio import from_mu_law
    from aigc.training.wavenet import Crops

    audio = torch.zeros(3, 8000)
    audio[:, 3000:5000] = 0.5 * torch.sin(torch.arange(2000) * 0.3)  # speech-like sound in the middle only
    crops = Crops(audio, torch.tensor([1, 2, 3]), 1280)
    inputs, targets, labels, mels = crops.draw(64, torch.Generator().manual_seed(0))
    assert inputs.shape == targets.shape == (64, 1280) and mels.shape == (64, 64, 11)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])  # inputs are the targets one step late
    starts = crops.weights.shape[1]
    assert starts == (8000 - 1280) // 128 + 1
    # crops with sound in them are drawn far more often than silent ones
    loud = (from_mu_law(targets).abs() > 0.1).any(1).float().mean()
    assert loud > 0.8
    # a crop's frames are the whole clip's frames from its first sample on
    inputs, targets, labels, mels = crops.take(torch.tensor([0]), torch.tensor([20]))
    assert torch.equal(mels[0], crops.mels[0, :, 20:31]) and torch.equal(targets[0], crops.codes[0, 2560:3840])
    assert inputs[0, 0] == crops.codes[0, 2559]


@pytest.mark.slow  # imports the trainer (accelerate) and reads the training clips: over 10 s on 2 loaded cores
def test_training_steps_lower_the_loss_on_a_fixed_batch(tmp_path):
    from aigc.training.configs import WaveNetConfig, WaveNetSizes
    from aigc.training.trainer import make_accelerator
    from aigc.training.wavenet import WaveNetTask, clip_loss

    config = WaveNetConfig(steps=30, batch_size=4, lr=1e-2, warmup=0, device="cpu",
                           model=WaveNetSizes(residual=8, skip=16, layers=4, stacks=1, mel_width=16, crop=512,
                                              mel_model=str(tmp_path / "none")))
    task = WaveNetTask(config, make_accelerator(config), None)
    batch = task.batch(4)
    task.batch = lambda n: batch  # the same batch every step
    with torch.no_grad():
        before = clip_loss(task.model, *batch).item()
    for step in range(30):
        task.train_step(step)
    with torch.no_grad():
        after = clip_loss(task.model, *batch).item()
    assert after < before - 0.5
    task.save_model(tmp_path / "model", release=True)
    saved = json.loads((tmp_path / "model" / "config.json").read_text())
    assert saved["kind"] == "wavenet" and saved["task"] == "audio" and saved["layers"] == 4 and saved["mels"] == 64
    assert saved["mel_model"] == str(tmp_path / "none") and saved["samples"] == 8000
    loaded = WaveNet(**{k: saved[k] for k in ("residual", "skip", "layers", "stacks", "mels", "mel_width", "hop")})
    loaded.load_state_dict(load_file(tmp_path / "model" / "model.safetensors"))
    inputs, _, labels, mels = batch
    with torch.no_grad():  # what the loader builds from the files is the network the task samples from
        assert torch.equal(loaded.eval()(inputs, labels, mels), task.ema.module.eval()(inputs, labels, mels))


@pytest.fixture(scope="module")
def tiny_vocoder(tmp_path_factory, tiny_mel):
    """A random WaveNet vocoder and the random spectrogram model it names, saved as training saves them."""
    from aigc.data import audio as data

    mel_folder = tiny_mel
    folder = tmp_path_factory.mktemp("tiny-wavenet")
    net = WaveNet(residual=8, skip=16, layers=4, stacks=1, mels=data.MELS, mel_width=8, hop=data.HOP)
    (folder / "config.json").write_text(json.dumps({"kind": "wavenet", "task": "audio", **net.config, "seconds": 1,
                                                    "mel_model": str(mel_folder),
                                                    "class_names": list(data.DIGIT_WORDS)}))
    save_file(net.state_dict(), folder / "model.safetensors")
    return str(folder)


@pytest.mark.slow  # imports diffusers' scheduler and writes two seconds sample by sample: over 10 s when loaded
def test_the_app_draws_a_spectrogram_and_the_wavenet_writes_one_second_clips(tiny_vocoder):
    from aigc.pipelines import audio

    partial = []
    clips = audio.generate_audio("3 1", tiny_vocoder, seed=4, on_partial=lambda so_far: partial.append(so_far.shape))
    assert clips.clips.shape == (2, 8000) and clips.said == ["three", "one"] and np.abs(clips.clips).max() <= 1
    assert partial[0] == (2, 800) and partial[-1] == (2, 8000)
    again = audio.generate_audio("3 1", tiny_vocoder, seed=4)
    assert np.array_equal(clips.clips, again.clips)


@pytest.mark.slow  # as above
def test_the_page_sees_the_waveform_grow_then_gets_the_clip(tiny_vocoder):
    from PIL import Image

    from aigc.data.audio import read_wav
    from aigc.pipelines import audio

    events = list(audio.write("7", tiny_vocoder, seed=1, every=0.0))
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done" and kinds.count("partial") >= 2 and set(kinds[:-1]) == {"partial"}
    with Image.open(events[0][1]) as first, Image.open(events[-2][1]) as last:
        # more of the picture is drawn as more is written: the band of the waveform covers more of it
        drawn = [(np.asarray(im.convert("L")) > 100).sum() for im in (first, last)]
    assert drawn[0] < drawn[1]
    wav, wave, spectrogram, said = events[-1][1]
    assert read_wav(wav)[0].shape == (8000,) and said["said"] == "seven"
