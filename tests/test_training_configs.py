"""One training configuration: each kind's dataclass holds its defaults, and the Train tab, the command
line and config.json all go through it."""

import json
import subprocess
import sys
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path

import pytest

from aigc.__main__ import build_parser
from aigc.errors import AigcError
from aigc.training import cli_command, make_config
from aigc.training.configs import KINDS, TrainConfig, as_kind_config, load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_s_defaults_are_one_dataclass_that_names_its_task(kind):
    config = KINDS[kind]()
    assert config.kind == kind and config.dataset == config.datasets[0]
    assert is_dataclass(config.model) and type(config.model) is KINDS[kind].sizes_class()
    task = KINDS[kind].task_class()
    assert task.kind == kind
    # a run on the defaults is repeated by a command that names none of them
    command = cli_command(make_config(kind, config.dataset, steps=config.steps), Path("runs/x"))
    assert command.split() == ["python", "-m", "aigc", "train", kind, "--dataset", config.dataset, "--steps",
                               str(config.steps), "--seed", "0", "--out", "runs/x"]


def test_options_override_the_defaults_and_typos_are_refused():
    config = make_config("dcgan", "digits", lr=1e-3, width=8, batch_size=None)
    assert (config.lr, config.model.width, config.batch_size) == (1e-3, 8, KINDS["dcgan"]().batch_size)
    assert config.model.z_dim == KINDS["dcgan"]().model.z_dim
    with pytest.raises(AigcError, match="Unknown training option.*widht"):
        make_config("dcgan", "digits", widht=8)
    with pytest.raises(AigcError, match="Unknown training option.*latent"):
        make_config("dcgan", "digits", latent=4)  # another kind's size
    with pytest.raises(AigcError, match="trains on shakespeare"):
        make_config("gpt", "digits")
    assert make_config("vae", "pictures.zip").dataset == "pictures.zip"
    with pytest.raises(AigcError, match="trains on digits"):
        make_config("cgan", "pictures.zip")  # labels do not come with uploads


def test_config_json_reads_back_as_the_kind_s_dataclass(tmp_path):
    config = make_config("text2video", "moving-shapes", steps=7, clips=32, steady=10.0)
    (tmp_path / "config.json").write_text(json.dumps(asdict(config)))
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["model"]["clips"] == 32 and isinstance(data["model"], dict)  # the file keeps a plain dict
    again = load_config(data)
    assert again == config and again.model.steady == 10.0
    # a run folder written before a size existed reads with that size's default
    del data["model"]["steady"]
    assert load_config(data).model.steady == KINDS["text2video"]().model.steady
    # a plain TrainConfig (as a caller may build one) becomes its kind's
    plain = TrainConfig(**json.loads((tmp_path / "config.json").read_text()))
    assert isinstance(plain.model, dict) and as_kind_config(plain) == config
    # a kind unknown here keeps its dict
    other = load_config({"kind": "test", "dataset": "x", "steps": 2, "batch_size": 1, "lr": 0.1, "model": {"a": 1}})
    assert type(other) is TrainConfig and other.model == {"a": 1}


def test_the_command_line_has_a_flag_for_every_size_of_every_kind():
    parser = build_parser()
    for config in KINDS.values():
        for size in fields(config.sizes_class()):
            args = parser.parse_args(["train", config.kind, "--dataset", "x", f"--{size.name.replace('_', '-')}",
                                      str(size.default)])
            assert getattr(args, size.name) == size.default and type(getattr(args, size.name)) is type(size.default)
    args = parser.parse_args(["train", "gpt", "--dataset", "shakespeare"])
    assert all(getattr(args, f.name) is None for config in KINDS.values() for f in fields(config.sizes_class()))


def test_the_command_line_knows_its_flags_without_importing_a_trainer():
    code = ("import sys; from aigc.__main__ import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m in ('torch', 'aigc.training.trainer', 'tqdm')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
