import json
import shlex
import math
import os
import subprocess
import sys

import pytest
import torch

import aigc
from aigc.cards import read_card
from aigc.errors import AigcError
from aigc.training import run_folder
from aigc.training.checkpoint import atomic_folder, existing_checkpoint, load_optimizer, save_optimizer
from aigc.training.events import read_metrics
from aigc.training.gpt import GPTTask

TINY = dict(n_layer=1, n_embd=32, n_head=2, block_size=32, batch_size=16, lr=3e-3, warmup=5,
            eval_every=20, sample_every=40, checkpoint_every=20, precision="no", device="cpu")


@pytest.mark.slow  # a training run
def test_tiny_gpt_run_lowers_loss_and_writes_its_folder(tmp_path):
    run = aigc.train("gpt", "shakespeare", steps=60, seed=0, out=tmp_path, **TINY)
    events = list(run)
    assert events[0].type == "start" and events[-1].type == "end"
    losses = [e.data["loss"] for e in events if e.type == "step"]
    uniform = math.log(81)  # the loss of a model that has learned nothing about 81 characters
    assert losses[-1] < uniform - 1.0 and losses[-1] < losses[0], losses
    evals = [e.data["val_loss"] for e in events if e.type == "eval"]
    assert evals[-1] < evals[0]
    assert any(e.type == "sample" and e.data["text"] for e in events)
    logged = read_metrics(tmp_path / "metrics.jsonl")
    assert [e.step for e in logged if e.type == "step"] == [e.step for e in events if e.type == "step"]
    assert (tmp_path / "best" / "model.safetensors").is_file()
    card = read_card(tmp_path / "best")
    best = min((e for e in events if e.type == "eval"), key=lambda e: e.data["val_loss"])
    assert card["task"] == "text" and card["steps"] == best.step and card["command"]
    assert card["metrics"]["val_loss_sampled"] == pytest.approx(best.data["val_loss"], abs=1e-4)
    assert json.loads((tmp_path / "checkpoint" / "trainer_state.json").read_text())["step"] == 60
    assert not list(tmp_path.rglob("*.bin")) and not list(tmp_path.rglob("*.pt"))


@pytest.mark.slow  # two training runs
def test_stop_then_resume_continues_the_step_count_and_the_curve(tmp_path):
    run = aigc.train("gpt", "shakespeare", steps=40, seed=0, out=tmp_path, **TINY)
    for event in run:
        if event.type == "step" and event.step >= 10:
            run.stop()
    assert run.last.data["reason"] == "stopped"
    stopped_at = run.last.step
    assert 10 <= stopped_at < 40
    resumed = aigc.train("gpt", "shakespeare", steps=40, seed=0, out=tmp_path, **TINY)
    events = list(resumed)
    assert events[0].data["resumed"] and events[0].step == stopped_at
    assert events[-1].data["reason"] == "finished" and events[-1].step == 40
    steps = [e.step for e in read_metrics(tmp_path / "metrics.jsonl") if e.type == "step"]
    assert steps == sorted(set(steps)) and steps[-1] == 40


@pytest.mark.slow  # a training run
def test_non_finite_loss_stops_with_a_sentence_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    real_step = GPTTask.train_step

    def poisoned(self, step):
        out = real_step(self, step)
        return {"loss": math.nan} if step >= 25 else out

    monkeypatch.setattr(GPTTask, "train_step", poisoned)
    run = aigc.train("gpt", "shakespeare", steps=60, seed=0, out=tmp_path, **TINY)
    last = run.wait()
    assert last.type == "error" and "NaN" in last.data["message"]
    state = json.loads((tmp_path / "checkpoint" / "trainer_state.json").read_text())
    assert state["step"] == 20


def test_atomic_folder_keeps_the_old_checkpoint_when_writing_fails(tmp_path):
    target = tmp_path / "ckpt"
    with atomic_folder(target) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_folder(target) as tmp:
            (tmp / "a.txt").write_text("half")
            raise RuntimeError("killed mid-write")
    assert (existing_checkpoint(target) / "a.txt").read_text() == "old"
    # A kill between the two renames leaves only the previous checkpoint, under .old.
    target.rename(tmp_path / "ckpt.old")
    assert (existing_checkpoint(target) / "a.txt").read_text() == "old"


def test_optimizer_state_round_trips_through_safetensors(tmp_path):
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    save_optimizer(opt, tmp_path / "opt.safetensors")
    fresh = torch.optim.AdamW(model.parameters(), lr=5.0)
    load_optimizer(fresh, tmp_path / "opt.safetensors")
    a, b = opt.state_dict(), fresh.state_dict()
    assert b["param_groups"][0]["lr"] == 1e-3
    for i in a["state"]:
        for key in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(a["state"][i][key], b["state"][i][key])


def test_run_names_cannot_leave_the_runs_folder():
    for bad in ("../x", "a/b", "", ".hidden", "x" * 65):
        with pytest.raises(AigcError):
            run_folder(bad)
    assert run_folder("my-run_1").name == "my-run_1"


def test_bad_training_requests_get_one_sentence():
    with pytest.raises(AigcError, match="Unknown model kind"):
        aigc.train("nope", "shakespeare", steps=1)
    with pytest.raises(AigcError, match="trains on"):
        aigc.train("gpt", "mnist", steps=1)


@pytest.mark.slow  # a training run in its own process
def test_cli_trains_with_a_progress_bar(tmp_path):
    cmd = [sys.executable, "-m", "aigc", "train", "gpt", "--dataset", "shakespeare", "--steps", "20",
           "--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--block-size", "32", "--batch-size", "8",
           "--eval-every", "10", "--precision", "no", "--device", "cpu", "--out", str(tmp_path / "run"),
           "--export", str(tmp_path / "exported")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert "20/20" in done.stderr and "loss=" in done.stderr
    assert (tmp_path / "exported" / "model.safetensors").is_file()


def test_a_run_started_from_python_records_the_command_that_repeats_it(tmp_path):
    from aigc.__main__ import build_parser
    from aigc.training import cli_command, make_config

    config = make_config("gpt", "shakespeare", steps=30, lr=1e-3, batch_size=8, n_layer=2, seed=5)
    args = build_parser().parse_args(shlex.split(cli_command(config, tmp_path))[3:])
    assert (args.kind, args.dataset, args.steps, args.lr, args.batch_size, args.n_layer, args.seed, args.out) == \
        ("gpt", "shakespeare", 30, 1e-3, 8, 2, 5, tmp_path)
    assert args.n_embd is None  # defaults stay implicit


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_a_slow_run_still_reports_at_least_every_log_seconds(tmp_path, monkeypatch):
    import time as clock

    original = GPTTask.train_step

    def slow(self, step):
        clock.sleep(0.06)
        return original(self, step)

    monkeypatch.setattr(GPTTask, "train_step", slow)
    run = aigc.train("gpt", "shakespeare", steps=9, seed=0, out=tmp_path, log_every=1000, log_seconds=0.2,
                     **{**TINY, "eval_every": 1000, "sample_every": 1000, "checkpoint_every": 1000})
    steps = [e.step for e in run if e.type == "step"]
    assert len(steps) >= 3 and steps[-1] == 9  # about every 3 steps (0.2 s), not only at the end


def test_runs_one_after_another_in_one_process_may_differ_in_precision(tmp_path):
    """accelerate holds one mixed precision per process; the app trains kinds one after another (a GAN in
    full precision, then a bf16 run), and two live runs that disagree get a sentence, not accelerate's error."""
    tiny = {**TINY, "eval_every": 1000, "sample_every": 1000, "checkpoint_every": 1000}
    for precision in ("no", "bf16", "no"):
        events = list(aigc.train("gpt", "shakespeare", steps=2, seed=0, out=tmp_path / precision, **{**tiny, "precision": precision}))
        assert events[0].data["precision"] == precision and events[-1].data["reason"] == "finished"
    live = aigc.train("gpt", "shakespeare", steps=100_000, seed=0, out=tmp_path / "live", **tiny)
    with pytest.raises(AigcError, match="one: wait for it to end"):
        aigc.train("gpt", "shakespeare", steps=2, seed=0, out=tmp_path / "other", **{**tiny, "precision": "bf16"})
    live.stop()
    assert live.wait().data["reason"] == "stopped"
    assert aigc.train("gpt", "shakespeare", steps=2, seed=0, out=tmp_path / "after", **{**tiny, "precision": "bf16"}).wait().data["reason"] == "finished"
