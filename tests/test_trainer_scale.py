"""The trainer beyond one process: TensorBoard through accelerate, and `accelerate launch`."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import aigc
from aigc.errors import AigcError
from aigc.net import free_port
from aigc.training.gpt import GPTTask
from aigc.training.trainer import Task, TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(n_layer=1, n_embd=32, n_head=2, block_size=32, batch_size=8, lr=3e-3, warmup=5, precision="no", device="cpu")


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_tensorboard_gets_the_step_and_eval_scalars(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is in requirements-dev.txt")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = aigc.train("gpt", "shakespeare", steps=20, seed=0, out=tmp_path, log_with="tensorboard", eval_every=10,
                     sample_every=100, checkpoint_every=100, **TINY)
    events = list(run)
    assert events[-1].data["reason"] == "finished"
    logs = EventAccumulator(str(tmp_path / "tensorboard"))
    logs.Reload()
    assert {"loss", "lr", "samples_per_s", "val_loss"} <= set(logs.Tags()["scalars"])
    logged = {s.step: s.value for s in logs.Scalars("loss")}
    expected = {e.step: e.data["loss"] for e in events if e.type == "step"}
    assert logged.keys() == expected.keys() == {10, 20}
    assert all(logged[k] == pytest.approx(expected[k], rel=1e-6) for k in expected)
    assert [s.step for s in logs.Scalars("val_loss")] == [10, 20]
    assert TrainConfig(**json.loads((tmp_path / "config.json").read_text())).log_with == "tensorboard"


def test_a_tracker_that_is_not_installed_gets_one_sentence(tmp_path, monkeypatch):
    import accelerate.tracking

    monkeypatch.setattr(accelerate.tracking, "get_available_trackers", lambda: [])
    with pytest.raises(AigcError, match="pip install tensorboard"):
        aigc.train("gpt", "shakespeare", steps=2, out=tmp_path, log_with="tensorboard", **TINY)
    with pytest.raises(AigcError, match="Unknown tracker"):
        aigc.train("gpt", "shakespeare", steps=2, out=tmp_path, log_with="papyrus", **TINY)


def test_processes_take_different_slices_of_each_batch():
    order = torch.randperm(100, generator=torch.Generator().manual_seed(0))

    def shard(processes, rank, i, batch_size=16):
        return Task.shard(SimpleNamespace(accelerator=SimpleNamespace(num_processes=processes, process_index=rank)),
                          order, i, batch_size)

    assert torch.equal(shard(1, 0, 2), order[32:48])  # one process: the batches of a plain loop
    for i in range(3):
        parts = [shard(3, rank, i) for rank in range(3)]
        assert all(len(p) == 16 for p in parts)
        assert len(set(torch.cat(parts).tolist())) == 48  # no image twice in a step
    assert len(shard(4, 3, 1)) == 16  # past the end of the data: it wraps around


@pytest.mark.slow  # accelerate launch: two training processes
def test_two_processes_through_accelerate_launch_share_one_run_folder(tmp_path):
    # On a machine without GPUs, `accelerate launch --cpu --num_processes 2` starts ONE process
    # (its CPU launcher expects MPI's mpirun); `--multi_gpu` starts the processes with torch's
    # launcher, and the trainer's Accelerator(cpu=True) joins them over gloo.
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(free_port()),
           "-m", "aigc", "train", "gpt", "--dataset", "shakespeare", "--steps", "6", "--n-layer", "1",
           "--n-embd", "32", "--n-head", "2", "--block-size", "32", "--batch-size", "8", "--eval-every", "3",
           "--sample-every", "3", "--checkpoint-every", "3", "--precision", "no", "--device", "cpu", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    start = events[0]
    assert start["type"] == "start" and start["data"]["processes"] == 2, "accelerate launch did not start 2 processes"
    # one writer: each event once, not once per process
    assert [e["type"] for e in events].count("start") == 1 and events[-1]["type"] == "end"
    assert [e["step"] for e in events if e["type"] == "eval"] == [3, 6]
    assert [e["step"] for e in events if e["type"] == "checkpoint"] == [3, 6]
    assert [e["step"] for e in events if e["type"] == "step"] == [6]
    assert events[-1]["data"]["reason"] == "finished"
    # The checkpoint resumes in one process: same step, model and optimizer load.
    config = TrainConfig(**json.loads((out / "config.json").read_text()))
    trainer = Trainer(config, GPTTask, out)
    assert trainer.state["step"] == 6
    assert all(int(s["step"]) == 6 for s in trainer.task.optimizer.state_dict()["state"].values())
    assert (out / "best" / "model.safetensors").is_file() and not (out / "checkpoint.tmp").exists()


def test_the_bench_s_bare_loop_does_the_trainer_s_work(tmp_path):
    # `python -m aigc bench train` compares the trainer with a bare loop; the comparison is fair
    # only if both compute the same thing: after the same steps their weights are identical.
    from aigc.bench import _bare_dcgan_loop
    from aigc.training import make_config
    from aigc.training.dcgan import DCGANTask

    config = make_config("dcgan", "digits", steps=3, batch_size=16, device="cpu", precision="no")
    trainer = Trainer(config, DCGANTask, tmp_path)
    for step in range(3):
        trainer.task.train_step(step)
    bare = _bare_dcgan_loop(16, torch.device("cpu"))
    for _ in range(3):
        bare()
    task = trainer.task
    for mine, theirs in ((task.accelerator.unwrap_model(task.G), bare.G), (task.accelerator.unwrap_model(task.D), bare.D),
                         (task.ema, bare.ema)):
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
