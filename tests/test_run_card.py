"""A training run's best model gets a card as complete as a built-in model's: its figures beside
the real-data figures, its samples, its speed, and a command a user can copy and run."""

import re
import shlex
import subprocess

import pytest
from PIL import Image

import aigc
from aigc.cards import read_card, render_card
from aigc.paths import RUNS
from aigc.catalog import builtin_models
from aigc.ui import models_tab

TINY = dict(steps=2, batch_size=16, eval_every=2, sample_every=2, checkpoint_every=2)
NAN = re.compile(r"\bnan\b", re.IGNORECASE)


def train(kind: str, dataset: str, name: str, **options):
    run = aigc.train(kind, dataset, out=RUNS / name, **{**TINY, **options})
    last = run.wait()
    assert last.type == "end", last
    return RUNS / name / "best"


def body(folder) -> str:
    return (folder / "README.md").read_text().split("---", 2)[2]


def row(name: str):
    return models_tab.overview().set_index("Model").loc[name]


@pytest.mark.slow  # a training run, then its card measured
def test_a_dcgan_run_card_has_real_figures_beside_real_data_samples_speed_and_a_relative_command():
    best = train("dcgan", "digits", "card-unit-gan", width=8, z_dim=16)
    card, text = read_card(best), body(best)
    metrics = card["metrics"]
    assert isinstance(metrics["classes_covered"], int) and 0 <= metrics["classes_covered"] <= 10  # a count, not 7.0
    assert metrics["samples"] == 500
    # the same judge on real data, as the built-in cards give it
    dcgan = next(m.card["metrics"] for m in builtin_models() if m.name == "dcgan-digits")
    assert {k: metrics[k] for k in ("real_confident_digits", "real_classes_covered", "real_frechet_distance")} == \
        {k: dcgan[k] for k in ("real_confident_digits", "real_classes_covered", "real_frechet_distance")}
    assert metrics["images_per_s"] > 0
    assert not NAN.search(text) and "?" not in text
    assert re.search(r"Of 500 samples, .* finds \*\*\d+ of 10 classes\*\* \(real digits: 97%, 10\)\.", text)
    assert "python -m aigc eval" not in text  # that command measures built-in models, not runs
    assert card["command"].split("--out ")[1].split()[0] == "runs/card-unit-gan" and str(RUNS) not in card["command"]
    samples = Image.open(best / "samples.png")
    assert samples.size == (2 * (8 * 34 + 2),) * 2  # 8 x 8 samples of 32 pixels with their borders, enlarged twice

    shown = row("card-unit-gan")
    assert re.fullmatch(r"[\d,]+ images/s", shown["Speed"]) and re.fullmatch(r"Frechet distance \S+ \(0\.284\)", shown["Quality (real data)"])
    markdown, picture = models_tab.show_card("card-unit-gan")
    assert picture == str(best / "samples.png")
    command = markdown.split("```bash\n")[1].split("\n```")[0]
    assert all(len(line) <= models_tab.COMMAND_WIDTH for line in command.splitlines())
    assert shlex.split(command.replace("\\\n", " ")) == shlex.split(card["command"])  # the same words, on several lines


@pytest.mark.slow  # a training run, then its card measured
def test_a_text_run_shows_its_perplexity_and_its_streaming_speed():
    best = train("gpt", "shakespeare", "card-unit-gpt", n_layer=1, n_embd=32, n_head=2, block_size=32, lr=3e-3, warmup=1)
    metrics = read_card(best)["metrics"]
    assert metrics["tokens_per_s"] > 0 and metrics["val_perplexity_sampled"] > 1
    shown = row("card-unit-gpt")
    assert re.fullmatch(r"held-out perplexity \(sampled windows\) [\d.]+", shown["Quality (real data)"])
    assert shown["Speed"].endswith(" tokens/s")
    assert not (best / "samples.png").exists()  # a text model's card has no picture, as the built-in one
    assert re.search(r"Held-out loss \*\*[\d.]+ nats per character\*\* \(perplexity [\d.]+\), on a fixed sample of held-out windows\.",
                     body(best))


@pytest.mark.slow  # a training run, then its card measured
def test_a_label_run_reads_its_worst_label_and_the_classifier_on_real_digits():
    best = train("cgan", "digits", "card-unit-cgan", width=8, z_dim=16, embed=8)
    metrics, text = read_card(best)["metrics"], body(best)
    assert {"worst_label_accuracy", "real_label_accuracy", "real_frechet_distance", "conditional_images_per_s"} <= set(metrics)
    assert not NAN.search(text) and "?" not in text
    assert re.search(r"\(the label drawn worst: [\d.]+%; the classifier on real digits: 99\.\d%\)", text)
    assert Image.open(best / "samples.png").size[1] == 2 * (10 * 34 + 2)  # one row per label
    assert re.fullmatch(r"[\d,]+ images/s", row("card-unit-cgan")["Speed"])


@pytest.mark.parametrize("kind, dataset, options", [
    ("vae", "digits", dict(width=8, latent=4)),
    ("diffusion", "digits", dict(width=8, sample_steps=2)),
    ("guided-diffusion", "digits", dict(width=8, sample_steps=2)),
    ("text2img", "shapes", dict(width=8, z_dim=16, embed=8)),
])
@pytest.mark.slow  # a training run, then its card measured
def test_every_image_kind_gets_samples_speed_and_real_data_figures(kind, dataset, options):
    name = f"card-unit-{kind}"
    best = train(kind, dataset, name, **options)
    metrics, text = read_card(best)["metrics"], body(best)
    assert any(k.startswith("real_") for k in metrics) and metrics["samples"] == 500
    assert not NAN.search(text) and "?" not in text
    assert (best / "samples.png").is_file()
    shown = row(name)
    assert "(" in shown["Quality (real data)"] and shown["Speed"].endswith("images/s")


@pytest.mark.slow  # real clips judged for the baselines
def test_a_video_run_is_timed_like_the_built_in_clip_model_and_its_card_reads_whole(tiny_text2video):
    from aigc.evaluation.runs import real_baselines, speed

    assert speed(tiny_text2video, "video", "card-unit-video", runs=1)["clip_seconds"] > 0
    builtin = next(m.card for m in builtin_models() if m.name == "text2video-shapes")
    judged = {k: v for k, v in builtin["metrics"].items() if not k.startswith("real_") and k != "clip_seconds"}
    real = real_baselines("moving-shapes", judged)
    assert real == {k: v for k, v in builtin["metrics"].items() if k.startswith("real_")}
    meta = {**builtin, "name": "card-unit-video", "metrics": {**judged, **real}, "measured_by": "trainer"}
    assert re.search(r"\(real clips: [\d.]+%, [\d.]+%, [\d.]+%, [\d.]+%\)\.", render_card(meta))


@pytest.mark.parametrize("name", [m.name for m in builtin_models()])
def test_a_card_without_real_data_figures_leaves_them_out_instead_of_printing_nan(name):
    builtin = next(m.card for m in builtin_models() if m.name == name)
    # what a run of this kind on data no built-in card shares would have: its own figures only
    own = {k: v for k, v in builtin["metrics"].items() if not k.startswith(("real_", "worst_", "partial_"))}
    text = render_card({**builtin, "metrics": own, "measured_by": "trainer"}).split("---", 2)[2]
    assert not NAN.search(text) and "?" not in text.replace("```python", "")


def test_a_run_on_pictures_no_judge_knows_says_so_instead_of_a_headline():
    card = {"name": "card-unit-photos", "task": "image", "kind": "dcgan", "dataset": "runs/card-unit-photos/dataset.zip",
            "parameters": 1000, "steps": 4, "batch_size": 3, "metrics": {"images_per_s": 900.0},
            "measured_by": "trainer", "command": "python -m aigc train dcgan"}
    assert models_tab._quality(card) == "no judge for this data" and models_tab._speed(card) == "900 images/s"
    text = render_card(card).split("---", 2)[2]
    assert "No judge scores these pictures" in text and "digit classifier" not in text and not NAN.search(text)


def test_a_long_command_is_shown_on_lines_that_fit_and_still_runs_as_one():
    command = ("python -m aigc train guided-diffusion --dataset digits --steps 4000 --seed 0 --out runs/cddpm-digits && "
               "python -m aigc train guided-diffusion --dataset 'runs/my run/dataset.zip' --steps 8000 --lr 4e-4 "
               "--out runs/cddpm-digits   # stopped at step 6,450; best/ holds step 6,000")
    shown = models_tab.wrapped(command)
    assert all(len(line) <= models_tab.COMMAND_WIDTH for line in shown.splitlines())
    assert shown.startswith("# stopped at step 6,450")  # the comment above, where it cannot swallow a line
    words = "printf '[%s]' " + command.split("#")[0].replace("&&", "'&&'")
    again = "printf '[%s]' " + "\n".join(shown.splitlines()[1:]).replace("&&", "'&&'")
    said = [subprocess.run(["bash", "-c", line], capture_output=True, text=True, check=True).stdout for line in (words, again)]
    assert said[0] == said[1] and "[runs/my run/dataset.zip]" in said[0]


def test_the_command_of_an_app_run_names_its_folder_and_upload_as_typed_from_the_checkout():
    from aigc.training import cli_command, make_config

    config = make_config("dcgan", str(RUNS / "mine" / "dataset.zip"), steps=10)
    args = shlex.split(cli_command(config, RUNS / "mine"))
    assert args[args.index("--out") + 1] == "runs/mine" and args[args.index("--dataset") + 1] == "runs/mine/dataset.zip"
