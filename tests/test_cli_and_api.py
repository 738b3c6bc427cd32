"""The Python package and the command line as a user meets them: run folders as models, clear
errors for missing files."""

import json
import shutil

import numpy as np
import pytest

import aigc
from aigc.__main__ import main
from aigc.errors import AigcError


def arrays(images):
    return [np.asarray(im) for im in images]


def as_run(model, run, where="best"):
    """A run folder in the trainer's layout, holding `model` as its best or as its last checkpoint's model."""
    shutil.copytree(model, run / where)
    (run / "config.json").write_text(json.dumps({"kind": "test", "steps": 2}))
    (run / "metrics.jsonl").write_text("")
    return run


# -- 9. a run folder is a model, wherever it is --------------------------------------------------------

def test_the_out_folder_of_a_run_is_its_best_model(tmp_path, capsys):
    run = tmp_path / "not-under-runs" / "my-gan"
    last = aigc.train("dcgan", "digits", steps=2, seed=0, out=run, batch_size=16, eval_every=2, sample_every=100,
                      checkpoint_every=2, width=8, z_dim=16, device="cpu").wait()
    assert last.type == "end", last
    best = arrays(aigc.generate_images(str(run / "best"), num_images=2, seed=0))
    assert np.array_equal(arrays(aigc.generate_images(str(run), num_images=2, seed=0)), best)
    assert main(["generate", "image", "--model", str(run), "-n", "2", "--seed", "0", "--out", str(tmp_path / "png")]) == 0
    assert "my-gan-seed0-grid.png" in capsys.readouterr().out

    shutil.rmtree(run / "best")  # before its first evaluation a run has only its checkpoint
    checkpoint = arrays(aigc.generate_images(str(run / "checkpoint" / "model"), num_images=2, seed=0))
    assert np.array_equal(arrays(aigc.generate_images(str(run), num_images=2, seed=0)), checkpoint)


def test_run_folders_of_every_task_load_as_models(tmp_path, tiny_gpt2, tiny_text2video):
    text = as_run(tiny_gpt2, tmp_path / "my-gpt")
    assert aigc.generate_text("To be", model=str(text), max_new_tokens=4, seed=0) == \
        aigc.generate_text("To be", model=str(text / "best"), max_new_tokens=4, seed=0)
    video = as_run(tiny_text2video, tmp_path / "my-video", "checkpoint/model")
    clip = aigc.generate_video("a red circle moving left", model=str(video), num_frames=4, seed=0)
    assert clip.is_file() and clip.name.startswith("my-video-seed0")


def test_conditional_run_folders_load_as_models(tmp_path):
    run = tmp_path / "my-cgan"
    aigc.train("cgan", "digits", steps=2, seed=0, out=run, batch_size=8, eval_every=100, sample_every=100,
               checkpoint_every=100, width=8, z_dim=16, device="cpu").wait()
    images = aigc.generate_conditional("7", model=str(run), num_images=2, seed=0)
    assert np.array_equal(arrays(images), arrays(aigc.generate_conditional("7", model=str(run / "best"), num_images=2, seed=0)))


def test_a_run_that_saved_nothing_yet_says_so(tmp_path):
    run = tmp_path / "just-started"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "dcgan", "steps": 10}))
    (run / "metrics.jsonl").write_text("")
    with pytest.raises(AigcError, match="'just-started' has not saved a model yet"):
        aigc.generate_images(str(run))


def test_training_on_a_missing_zip_names_the_file(tmp_path, capsys):
    missing = tmp_path / "missing.zip"
    with pytest.raises(AigcError, match=f"There is no file '{missing}'"):
        aigc.train("vae", str(missing), steps=2)
    assert main(["train", "vae", "--dataset", str(missing), "--steps", "2"]) == 2
    assert f"no file '{missing}'" in capsys.readouterr().err


# -- 10. the package installs from anywhere --------------------------------------------------------------

def test_the_wheel_holds_every_module_and_declares_requirements_txt(tmp_path):
    """The build backend pip runs for `pip install -e .`, on a copy of the project: every module of
    every subpackage is in the wheel, and its dependencies are requirements.txt's, all of them."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parent.parent
    for name in ("pyproject.toml", "requirements.txt"):
        shutil.copy(root / name, tmp_path / name)
    shutil.copytree(root / "aigc", tmp_path / "aigc", ignore=shutil.ignore_patterns("__pycache__"))
    build = "from setuptools import build_meta; print(build_meta.build_wheel('dist'))"
    done = subprocess.run([sys.executable, "-c", build], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = zipfile.ZipFile(tmp_path / "dist" / done.stdout.split()[-1])
    modules = {p.relative_to(root).as_posix() for p in (root / "aigc").rglob("*.py")}
    assert modules - set(wheel.namelist()) == set()
    metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    declared = [line.split(":", 1)[1].strip() for line in wheel.read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist:")]
    listed = [line.strip() for line in (root / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert sorted(map(str, map(Requirement, declared))) == sorted(map(str, map(Requirement, listed)))
