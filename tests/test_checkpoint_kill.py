"""A run killed with SIGKILL at any moment, even while it saves, leaves a checkpoint that resumes."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from aigc.training import make_config
from aigc.training.checkpoint import existing_checkpoint
from aigc.training.gpt import GPTTask
from aigc.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(n_layer=1, n_embd=32, n_head=2, block_size=32, batch_size=8, lr=3e-3, warmup=5, precision="no",
            device="cpu", checkpoint_every=1, eval_every=5, sample_every=10**9)

# Importing torch and transformers takes seconds, so one helper process imports them once and
# forks a fresh training process for each kill; the test kills that process with SIGKILL.
FORKER = textwrap.dedent("""
    import os, sys
    from aigc.training import make_config
    from aigc.training.gpt import GPTTask
    from aigc.training.trainer import Trainer

    config = make_config("gpt", "shakespeare", steps=100_000, seed=0, **{TINY!r})
    print("ready", flush=True)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                for _ in Trainer(config, GPTTask, {folder!r}).run():
                    pass
            finally:
                os._exit(0)
        print(pid, flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
""")


def checkpoint_step(folder: Path) -> int:
    ckpt = existing_checkpoint(folder / "checkpoint")
    if ckpt is None:
        return 0
    try:
        return json.loads((ckpt / "trainer_state.json").read_text())["step"]
    except (OSError, ValueError):  # renamed away while we read it: the next look sees the new one
        return -1


def assert_checkpoint_resumes(folder: Path, config) -> int:
    """Resume with the Trainer: its step is the saved one, and the weights and both optimizer
    states loaded are the ones in the files (Adam's own step count says they belong together)."""
    ckpt = existing_checkpoint(folder / "checkpoint")
    saved = json.loads((ckpt / "trainer_state.json").read_text())
    trainer = Trainer(config, GPTTask, folder)
    assert trainer.state["step"] == saved["step"]
    model = trainer.accelerator.unwrap_model(trainer.task.model)
    weights = load_file(ckpt / "model" / "model.safetensors")
    for name, tensor in model.state_dict().items():
        if name in weights:
            assert torch.equal(tensor, weights[name]), name
    states = trainer.task.optimizer.state_dict()["state"]
    assert states and all(int(s["step"]) == saved["step"] for s in states.values())
    return saved["step"]


@pytest.mark.slow  # a training process started and killed again and again
def test_sigkill_at_random_moments_never_breaks_the_checkpoint(tmp_path):
    folder = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    forker = subprocess.Popen([sys.executable, "-c", FORKER.format(TINY=TINY, folder=str(folder))], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    config = make_config("gpt", "shakespeare", steps=100_000, seed=0, **TINY)
    rng = random.Random(6)
    steps_seen, pid = [], None
    try:
        assert forker.stdout.readline().strip() == "ready"
        for kill in range(6):
            before = checkpoint_step(folder)
            forker.stdin.write("go\n")
            forker.stdin.flush()
            pid = int(forker.stdout.readline())
            if kill % 3 == 2:  # anywhere, start-up and resume included
                time.sleep(rng.uniform(0.0, 2.0))
            else:  # once it saves again, somewhere in the stream of saves
                deadline = time.monotonic() + 60
                while checkpoint_step(folder) <= before:
                    assert time.monotonic() < deadline, "the training process made no progress"
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.3))
            os.kill(pid, signal.SIGKILL)
            pid = None
            assert forker.stdout.readline().strip() == "reaped"
            if existing_checkpoint(folder / "checkpoint") is not None:
                steps_seen.append(assert_checkpoint_resumes(folder, config))
    finally:
        if pid is not None:  # a failed check must not leave a training process behind
            os.kill(pid, signal.SIGKILL)
        forker.kill()
        forker.wait()
    assert len(steps_seen) >= 4 and steps_seen == sorted(steps_seen) and steps_seen[-1] > steps_seen[0], steps_seen
    # And a resumed run carries on to its end from there.
    config.steps = steps_seen[-1] + 3
    events = list(Trainer(config, GPTTask, folder).run())
    assert events[0].step == steps_seen[-1] and events[-1].data["reason"] == "finished" and events[-1].step == config.steps
    assert json.loads((folder / "checkpoint" / "trainer_state.json").read_text())["step"] == config.steps
    assert not (folder / "checkpoint.old").exists() and not (folder / "checkpoint.tmp").exists()


class Crash(BaseException):
    """A process dying at this point (not an Exception: nothing may catch it)."""


def test_a_crash_between_any_two_file_operations_of_two_saves_in_a_row_leaves_a_whole_checkpoint(tmp_path, monkeypatch):
    # The same question as above, asked at every point of atomic_folder deterministically: a save is
    # rmtree(tmp), rmtree(old), rename(target->old), rename(tmp->target), rmtree(old); a crash
    # comes before an operation, or halfway through a removal.
    import pathlib
    import shutil

    from aigc.training.checkpoint import atomic_folder

    real_rename, real_rmtree = pathlib.Path.rename, shutil.rmtree
    plan = {"count": 0, "crash_at": set()}

    def operation(kind, path):
        plan["count"] += 1
        if plan["count"] in plan["crash_at"]:
            files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if kind == "rmtree" else []
            if files:
                files[0].unlink()  # half removed
            raise Crash(kind)

    def rename(self, target):
        operation("rename", self)
        return real_rename(self, target)

    def rmtree(path, *args, **kwargs):
        if Path(path).exists():
            operation("rmtree", path)
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "rename", rename)
    monkeypatch.setattr(shutil, "rmtree", rmtree)
    target = tmp_path / "ckpt"

    def save(version: str) -> None:
        with atomic_folder(target) as tmp:
            (tmp / "model").mkdir()
            (tmp / "model" / "weights").write_text(version)
            (tmp / "state").write_text(version)

    def whole() -> str:
        found = existing_checkpoint(target)
        version = (found / "state").read_text()
        assert (found / "model" / "weights").read_text() == version
        return version

    crashes = 0
    for first in range(1, 7):  # the operation of the first save that dies (6: it does not)
        for second in range(1, 7):  # the same for the save after it
            real_rmtree(tmp_path)
            tmp_path.mkdir()
            save("v0")
            known = "v0"
            for version, crash_at in (("v1", first), ("v2", second)):
                plan.update(count=0, crash_at={crash_at})
                try:
                    save(version)
                except Crash:
                    crashes += 1
                now = whole()
                assert now in (known, version)  # what was there before, or this save: never a mix
                known = now
            plan["crash_at"] = set()
            save("v3")  # and a save after the crashes cleans up and wins
            assert whole() == "v3" and not (tmp_path / "ckpt.old").exists() and not (tmp_path / "ckpt.tmp").exists()
    assert crashes > 30
