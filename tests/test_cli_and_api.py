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

@pytest.mark.slow  # a training run with an evaluation
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

@pytest.mark.slow  # the build backend run on a copy of the project
def test_the_wheel_holds_every_module_and_declares_requirements_txt(tmp_path):
    """The build backend pip runs for `pip install -e .`, on a copy of the project: every module of
    every subpackage is in the wheel, and its dependencies are requirements.txt's, all of them."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parent.parent
    for name in ("pyproject.toml", "requirements.txt", "requirements-scale.txt"):
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
    def listed(name: str, extra: str = "") -> list[str]:
        lines = [line.strip() for line in (root / name).read_text().splitlines() if line.strip() and not line.startswith("#")]
        return sorted(str(Requirement(line + (f'; extra == "{extra}"' if extra else ""))) for line in lines)

    assert sorted(str(r) for r in map(Requirement, declared) if "extra" not in str(r.marker)) == listed("requirements.txt")
    # pip install -e .[scale]: the extra is requirements-scale.txt's list
    assert sorted(str(r) for r in map(Requirement, declared) if "extra" in str(r.marker)) == listed(
        "requirements-scale.txt", "scale")


# -- 11. listing is quick and plain ------------------------------------------------------------------------

HEAVY = ("torch", "torchvision", "gradio", "diffusers", "transformers", "accelerate")


def test_listing_models_imports_no_heavy_library_and_prints_a_plain_table():
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "aigc", "list"], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {m.split(".")[0] for m in imported} & set(HEAVY) == set()
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TASK", "SOURCE", "DESCRIPTION"]
    starts = {tuple(m.start() for m in re.finditer(r"(?<=  )\S", line))[:3] for line in lines}
    assert len(starts) == 1, lines  # every row's columns begin where the header's do
    assert "dcgan-digits" in done.stdout and not re.search(r"[`*\[\]]", done.stdout), done.stdout
    dcgan = next(line for line in lines if line.startswith("dcgan-digits "))
    assert dcgan.endswith("  a DCGAN trained on digits")  # the card's title without its Markdown or the name again


def test_the_api_loads_on_first_use_and_train_still_takes_model_sizes(capsys):
    import subprocess
    import sys

    from pathlib import Path

    probe = "import sys, aigc; print(sorted({m.split('.')[0] for m in sys.modules} & %r))" % (set(HEAVY),)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr[-2000:]
    from aigc.pipelines.image import generate_images

    assert aigc.generate_images is generate_images and "generate_video" in dir(aigc)
    with pytest.raises(AttributeError):
        aigc.no_such_thing
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--z-dim" in capsys.readouterr().out


def test_plain_keeps_words_and_drops_markdown():
    from aigc.__main__ import plain

    assert plain("`dcgan-digits`: a **DCGAN** on [digits](https://x.org/d) from *scikit-learn*") == \
        "dcgan-digits: a DCGAN on digits from scikit-learn"
    assert plain("a text_to_video model from huggingface_hub") == "a text_to_video model from huggingface_hub"


# -- 13. no deprecated Hub arguments in the log -------------------------------------------------------------

def test_hub_text_to_image_loads_from_the_cache_without_deprecated_hub_arguments(tiny_sd, tmp_path, monkeypatch):
    """A Hub id in the local Hugging Face cache (here: a tiny pipeline placed there by hand, offline) loads
    and draws without huggingface_hub's warning about `local_dir_use_symlinks`; an uncached one still
    gets its one sentence."""
    import warnings

    import huggingface_hub.constants

    commit = "0" * 40
    repo = tmp_path / "hub" / "models--aigc-tests--tiny-sd"
    shutil.copytree(tiny_sd, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        images = aigc.generate_conditional("a red fox", model="aigc-tests/tiny-sd", num_images=1, steps=1, width=64,
                                           height=64, seed=0)
        with pytest.raises(AigcError, match="'aigc-tests/not-cached' is not in the local cache"):
            aigc.generate_conditional("a red fox", model="aigc-tests/not-cached", num_images=1, steps=1)
    assert images[0].size == (64, 64)
    assert not [w for w in seen if "local_dir_use_symlinks" in str(w.message)], [str(w.message) for w in seen]
