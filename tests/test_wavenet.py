"""WaveNet: cached (Fast WaveNet) generation computes what the teacher-forced network computes, the
receptive field is what the property says, batches of clips come out whole, and training learns."""

import json

import pytest
import torch
from safetensors.torch import load_file

from aigc.models.wavenet import SILENCE, CachedWaveNet, WaveNet


def tiny(seed: int = 0) -> WaveNet:
    torch.manual_seed(seed)
    model = WaveNet(residual=8, skip=16, layers=4, stacks=2).eval()
    with torch.no_grad():  # weights large enough that the logits differ clearly from step to step
        for p in model.parameters():
            p.normal_(0, 0.4)
    return model


def teacher_forced(model: WaveNet, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The logits `forward` gives for the clip the generator wrote, from silence."""
    inputs = torch.cat([torch.full((len(codes), 1), SILENCE), codes[:, :-1]], 1)
    with torch.no_grad():
        return model(inputs, labels)


def test_cached_steps_give_the_logits_of_the_whole_sequence():
    model = tiny()
    labels = torch.tensor([0, 4, 9, 10])  # 10: no label
    codes = torch.randint(0, 256, (4, 70), generator=torch.Generator().manual_seed(1))
    full = teacher_forced(model, codes, labels)
    cache = CachedWaveNet(model, labels)
    steps = [cache.step(c).clone() for c in torch.cat([torch.full((4, 1), SILENCE), codes[:, :-1]], 1).t()]
    assert torch.allclose(torch.stack(steps, 2), full, atol=1e-4, rtol=1e-4)


def test_greedy_generation_equals_argmax_of_forward():
    model = tiny()
    labels = torch.tensor([2, 7])
    codes = model.generate(labels, 80, temperature=0)
    assert codes.shape == (2, 80) and len(codes.unique()) > 3  # not stuck on one code
    assert torch.equal(teacher_forced(model, codes, labels).argmax(1), codes)


def test_sampled_generation_follows_forward_with_the_same_noise():
    model = tiny()
    labels = torch.tensor([3, 3, 5])
    codes = model.generate(labels, 90, temperature=0.8, generator=torch.Generator().manual_seed(5))
    # the same Gumbel noise the generator drew (one chunk of draws)
    uniform = torch.rand(90, 3, 256, generator=torch.Generator().manual_seed(5)).clamp_(1e-10, 1 - 1e-7)
    gumbel = -torch.log(-torch.log(uniform)).permute(1, 2, 0)
    again = (teacher_forced(model, codes, labels) / 0.8 + gumbel).argmax(1)
    assert torch.equal(again, codes)
    other = model.generate(labels, 90, temperature=0.8, generator=torch.Generator().manual_seed(6))
    assert not torch.equal(other, codes)


def test_receptive_field():
    model = tiny()
    assert model.receptive_field == 2 + 2 * (1 + 2 + 4 + 8) == 32
    length = 60
    codes = torch.randint(0, 256, (1, length), generator=torch.Generator().manual_seed(2))
    label = torch.tensor([1])
    last = lambda c: model(c, label)[0, :, -1]
    with torch.no_grad():
        base = last(codes)
        inside, outside = codes.clone(), codes.clone()
        inside[0, length - model.receptive_field] = (codes[0, length - model.receptive_field] + 100) % 256
        outside[0, length - model.receptive_field - 1] = (codes[0, length - model.receptive_field - 1] + 100) % 256
        assert not torch.allclose(last(inside), base)
        assert torch.equal(last(outside), base)


def test_a_batch_of_clips_with_progress_reports():
    model = tiny()
    seen = []
    codes = model.generate(torch.arange(8) % 10, 1700, generator=torch.Generator().manual_seed(0),
                           on_chunk=lambda done, so_far: seen.append((done, tuple(so_far.shape))))
    assert codes.shape == (8, 1700) and codes.dtype == torch.long
    assert 0 <= codes.min() and codes.max() < 256
    assert seen == [(800, (8, 800)), (1600, (8, 1600)), (1700, (8, 1700))]
    # clips in one batch are drawn independently: not copies of one another
    assert not torch.equal(codes[0], codes[1])


def test_generate_leaves_the_thread_count_as_it_was():
    threads = torch.get_num_threads()
    tiny().generate(torch.tensor([1]), 10)
    assert torch.get_num_threads() == threads


@pytest.mark.slow  # imports the trainer (accelerate) and reads the training clips: over 10 s on 2 loaded cores
def test_training_steps_lower_the_loss_on_a_fixed_batch(tmp_path):
    from aigc.training.configs import WaveNetConfig, WaveNetSizes
    from aigc.training.trainer import make_accelerator
    from aigc.training.wavenet import WaveNetTask, clip_loss

    config = WaveNetConfig(steps=30, batch_size=4, lr=3e-3, warmup=0, device="cpu",
                           model=WaveNetSizes(residual=8, skip=16, layers=4, stacks=1, crop=600))
    task = WaveNetTask(config, make_accelerator(config), None)
    codes, labels = task.batch(4)
    task.batch = lambda n: (codes, labels)  # the same batch every step
    with torch.no_grad():
        before = clip_loss(task.model, codes, labels).item()
    for step in range(30):
        task.train_step(step)
    with torch.no_grad():
        after = clip_loss(task.model, codes, labels).item()
    assert after < before - 0.5
    task.save_model(tmp_path / "model", release=True)
    saved = json.loads((tmp_path / "model" / "config.json").read_text())
    assert saved["kind"] == "wavenet" and saved["task"] == "audio" and saved["layers"] == 4
    loaded = WaveNet(**{k: saved[k] for k in ("residual", "skip", "layers", "stacks")})
    loaded.load_state_dict(load_file(tmp_path / "model" / "model.safetensors"))
    with torch.no_grad():  # what the loader builds from the files is the network the task samples from
        assert torch.equal(loaded.eval()(codes, labels), task.ema.module.eval()(codes, labels))
    audio = task.generate(torch.tensor([3, 8]))
    assert audio.shape == (2, 8000) and audio[:, 600:].abs().max() == 0  # written for the crop, then silence
