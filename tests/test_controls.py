"""Pipelines describe their controls (aigc.pipelines.controls): each model's kind, options and defaults,
read without loading weights, and the tabs that show, fill and send their controls from that."""

import json
import subprocess
import sys

import pytest

from aigc import catalog, limits
from aigc.cards import read_card
from aigc.errors import AigcError
from aigc.paths import CHECKPOINTS
from aigc.pipelines import conditional, controls, image, validate, video


def _config(task: str, name: str) -> dict:
    return json.loads((CHECKPOINTS / task / name / "config.json").read_text())


@pytest.mark.parametrize("name, kind, options", [
    ("dcgan-digits", "dcgan", {"walk"}),
    ("vae-digits", "vae", {"walk", "reconstruct"}),
    ("ddpm-digits", "diffusion", {"steps", "scheduler"}),
    ("google/ddpm-cifar10-32", "hub", {"steps", "scheduler"}),
])
def test_image_models_say_what_they_take(name, kind, options):
    takes = image.controls(name)
    assert takes.kind == kind and takes.options == options
    if "steps" in takes:  # the solver's own defaults, the scheduler among the names models.diffusion knows
        assert takes.defaults == {"steps": 25, "scheduler": "ddim"} and takes.defaults["scheduler"] in image.SCHEDULERS
    else:
        assert takes.defaults == {} and takes.given("steps", 40) is None
    assert takes.condition is None and takes.labels is None


def test_conditional_models_say_what_they_take():
    cgan = conditional.controls("cgan-digits")
    assert (cgan.kind, cgan.options, cgan.condition) == ("cgan", {"all_labels"}, "label")
    assert cgan.labels == tuple(_config("conditional", "cgan-digits")["class_names"]) and cgan.defaults == {}

    guided = conditional.controls("cddpm-digits")
    card = read_card(CHECKPOINTS / "conditional" / "cddpm-digits")
    assert guided.kind == "guided-diffusion" and guided.options == {"guidance", "steps", "all_labels"}
    assert guided.defaults == {"guidance": card["guidance"], "steps": card["sample_steps"]}  # its own, not the fallback
    assert guided.condition == "label" and len(guided.labels) == 10

    caption = conditional.controls("text2img-shapes")
    assert (caption.kind, caption.options, caption.condition, caption.labels) == ("text2img", set(), "caption", None)


@pytest.mark.parametrize("hub_id, guidance, steps", [("stabilityai/sd-turbo", 0.0, 1),
                                                      ("stabilityai/stable-diffusion-2-1", 7.5, 25)])
def test_a_hub_text_to_image_id_takes_the_pipelines_own_defaults(hub_id, guidance, steps):
    takes = conditional.controls(hub_id)
    assert takes.kind == "hub" and takes.options == {"guidance", "steps", "negative_prompt", "size"}
    assert takes.defaults == {"guidance": guidance, "steps": steps, "width": 512, "height": 512}
    assert takes.condition == "prompt" and takes.given("negative_prompt", "blurry") == "blurry"


def test_video_models_say_what_they_take_and_how_many_frames():
    shapes = video.controls("text2video-shapes")
    assert shapes.kind == "text2video" and shapes.options == set() and shapes.condition == "caption"
    assert shapes.maxima == {"frames": _config("video", "text2video-shapes")["frames"]}
    wan = video.controls(video.DEFAULT_HUB_MODEL)
    assert wan.kind == "hub" and wan.options == {"steps", "guidance"} and wan.condition == "prompt"
    assert wan.defaults == {"steps": video.HUB_STEPS, "guidance": 5.0}  # WanPipeline's own guidance
    assert wan.maxima == {"frames": limits.PRIVATE.max_video_frames}
    with limits.using(limits.PUBLIC):  # a Hub pipeline draws as many frames as the server allows
        assert video.controls(video.DEFAULT_HUB_MODEL).maxima == {"frames": limits.PUBLIC.max_video_frames}


def test_a_training_runs_model_is_described_from_its_own_config(tmp_path, monkeypatch):
    best = tmp_path / "my-guided" / "best"
    best.mkdir(parents=True)
    (best / "README.md").write_text("---\nname: my-guided\ntask: conditional\nkind: guided-diffusion\n---\n\n# mine\n")
    (best / "config.json").write_text(json.dumps({"kind": "guided-diffusion", "class_names": ["cat", "dog"],
                                                  "guidance": 4.5, "sample_steps": 10}))
    monkeypatch.setattr(catalog, "RUNS", tmp_path)
    takes = conditional.controls("my-guided")
    assert takes.kind == "guided-diffusion" and takes.labels == ("cat", "dog")
    assert takes.defaults == {"guidance": 4.5, "steps": 10}
    assert image.controls("my-guided").kind == "hub"  # a conditional run is not an image model


def test_a_folder_is_never_looked_at_and_a_bad_name_is_left_to_the_pipeline():
    folder = str(CHECKPOINTS / "image" / "vae-digits")  # a model, but named as a path: as typed on the web
    assert image.controls(folder).kind == "hub" and conditional.controls("../../etc").kind == "hub"
    assert image.controls("").kind == "hub"


def test_limits_and_names_are_defined_once():
    from aigc.models import diffusion

    assert image.SCHEDULERS is diffusion.SCHEDULERS and list(image.SCHEDULERS)[0] == diffusion.DEFAULT_SCHEDULER
    assert conditional.MAX_GUIDANCE is video.MAX_GUIDANCE is controls.MAX_GUIDANCE
    with pytest.raises(AigcError, match="guidance scale must be between 0 and 30"):
        conditional.generate_conditional("7", "cddpm-digits", guidance_scale=31)


@pytest.mark.slow  # a fresh interpreter imports torch
def test_the_pipelines_describe_models_without_importing_diffusers():
    code = ("import sys; from aigc.pipelines import image, conditional, video; image.controls('ddpm-digits'); "
            "conditional.controls('stabilityai/sd-turbo'); video.controls('text2video-shapes'); "
            "print('diffusers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr


# -- the tabs follow the model ------------------------------------------------------------------------

def test_the_image_tab_shows_what_the_model_takes():
    from aigc.ui.image_tab import _controls_for

    shown = lambda model: [update["visible"] for update in _controls_for(model)]  # noqa: E731
    assert shown("ddpm-digits") == [True, False, False]
    assert shown("dcgan-digits") == [False, True, False]
    assert shown("vae-digits") == [False, True, True]
    assert shown("google/ddpm-cifar10-32") == [True, False, False]


def test_the_conditional_tab_moves_guidance_and_steps_to_the_models_own():
    from aigc.ui.conditional_tab import _controls_for

    guidance, steps, hub_box, all_labels, condition = _controls_for("cddpm-digits")
    card = read_card(CHECKPOINTS / "conditional" / "cddpm-digits")
    assert guidance["visible"] and guidance["value"] == card["guidance"] and steps["value"] == card["sample_steps"]
    assert not hub_box["visible"] and all_labels["visible"] and condition["label"].key == "common.label"

    guidance, steps, hub_box, all_labels, condition = _controls_for("stabilityai/sd-turbo")
    assert (guidance["value"], steps["value"]) == (0.0, 1) and hub_box["visible"] and not all_labels["visible"]
    assert condition["label"].key == "common.prompt"

    guidance, steps, hub_box, all_labels, condition = _controls_for("text2img-shapes")
    assert not guidance["visible"] and "value" not in guidance  # a hidden slider keeps its value
    assert not hub_box["visible"] and not all_labels["visible"] and condition["label"].key == "common.caption"


def test_the_video_tab_fits_its_frames_to_the_model():
    from aigc.ui.video_tab import _controls_for

    steps, guidance, frames, prompt = _controls_for("text2video-shapes")
    assert not steps["visible"] and not guidance["visible"] and prompt["label"].key == "common.caption"
    assert frames["maximum"] == _config("video", "text2video-shapes")["frames"]


class Recorder:
    """An engine that records what each endpoint asks of it and answers like the pipeline's page function."""

    limits = limits.PRIVATE

    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def call(self, role, fn, /, *args, progress=None, **kwargs):
        self.calls.append(kwargs)
        return self.answer


@pytest.mark.parametrize("model, steps, scheduler", [("dcgan-digits", None, None), ("ddpm-digits", 40, "dpm++")])
def test_the_image_endpoint_sends_steps_only_to_a_model_that_takes_them(model, steps, scheduler):
    from aigc.ui import image_tab

    engine = Recorder((["a.png"], "grid.png", 0.1))
    image_tab.generate_images(model, 1, 3, 40, "dpm++", engine=engine)
    assert engine.calls[0]["steps"] == steps and engine.calls[0]["scheduler"] == scheduler


def test_the_conditional_endpoints_send_a_value_only_to_a_model_that_takes_it():
    from aigc.ui import conditional_tab

    engine = Recorder((["a.png"], "grid.png", 0.1))
    sent = lambda model: (conditional_tab.generate_conditional("7", model, 1, 6.0, 3, 9, "dull", 256, 320,  # noqa: E731
                                                               engine=engine), engine.calls[-1])[1]
    cgan = sent("cgan-digits")
    assert [cgan[k] for k in ("guidance_scale", "steps", "negative_prompt", "width", "height")] == [None] * 5
    guided = sent("cddpm-digits")
    assert (guided["guidance_scale"], guided["steps"], guided["negative_prompt"], guided["width"]) == (6.0, 9, None, None)
    hub = sent("stabilityai/sd-turbo")
    assert [hub[k] for k in ("guidance_scale", "steps", "negative_prompt", "width", "height")] == [6.0, 9, "dull", 256, 320]

    labels = Recorder(([("a.png", "7")], "grid.png", ["7"], 0.1))
    conditional_tab.show_all_labels("cgan-digits", 6.0, 3, 9, engine=labels)
    assert labels.calls[0]["guidance_scale"] is None and labels.calls[0]["steps"] is None


def test_the_video_endpoint_sends_steps_and_guidance_only_to_a_hub_pipeline():
    from aigc.ui import video_tab

    engine = Recorder(("a.mp4", "a.gif", "strip.png", 8, 8, 0.5))
    video_tab.generate_video("a red circle", "text2video-shapes", 8, 8, 3, 30, 7.0, engine=engine)
    video_tab.generate_video("a red circle", video.DEFAULT_HUB_MODEL, 8, 8, 3, 30, 7.0, engine=engine)
    assert [(c["steps"], c["guidance_scale"]) for c in engine.calls] == [(None, None), (30, 7.0)]


# -- the Train tab's numbers are checked by the pipelines' validate -----------------------------------

@pytest.mark.parametrize("value, low, ok", [(3, 1, 3), (3.0, 1, 3), (0, 0, 0), (0, 1, None), (2.5, 1, None),
                                            (float("nan"), 1, None), (float("inf"), 1, None), (None, 1, None),
                                            ("7", 1, None), (True, 1, None)])
def test_a_count_is_a_whole_number_of_at_least_its_low(value, low, ok):
    if ok is None:
        with pytest.raises(AigcError, match=rf"^Steps must be a whole number of {low} or more\.$"):
            validate.count("Steps", value, low)
    else:
        assert validate.count("Steps", value, low) == ok and isinstance(validate.count("Steps", value, low), int)


def test_a_learning_rate_is_above_zero_and_at_most_one():
    assert validate.above_zero("learning rate", 2e-4, 1.0) == 2e-4
    for bad in (0, -1e-3, 1.5, float("nan"), None, "0.1"):
        with pytest.raises(AigcError, match=r"^The learning rate must be a number above 0 and at most 1\.$"):
            validate.above_zero("learning rate", bad, 1.0)


@pytest.mark.parametrize("settings, words", [
    (dict(steps=0.5), "Steps must be a whole number of 1 or more."),
    (dict(batch_size=0), "Batch size must be a whole number of 1 or more."),
    (dict(sample_every=2.5), "Sample every must be a whole number of 1 or more."),
    (dict(seed=-1), "Seed must be a whole number of 0 or more."),
    (dict(lr=5.0), "The learning rate must be a number above 0 and at most 1."),
])
def test_the_train_tab_refuses_a_bad_number_before_a_run_starts(settings, words):
    from aigc.ui.train_tab import start_training

    given = dict(steps=10, batch_size=16, lr=2e-4, seed=0, sample_every=10) | settings
    with pytest.raises(AigcError) as refused:
        next(start_training("dcgan", "digits", None, "never-started", **given))
    assert str(refused.value) == words


# -- the Models tab's headline figure is named by the evaluation ---------------------------------------

def test_every_built_in_model_has_its_kinds_headline_figure():
    from aigc.evaluation.headline import HEADLINES, headline

    for model in catalog.builtin_models():
        head, value, real = headline(model.card)
        assert head in HEADLINES[model.card["kind"]] and value == model.card["metrics"][head.metric]
        assert real == (model.card["metrics"][head.baseline] if head.baseline else None)
    assert headline({"kind": "gpt", "metrics": {"val_perplexity_sampled": 5.0}})[0].label.endswith("(sampled windows)")
    assert headline({"kind": "dcgan", "metrics": {"samples": 3}}) is None and headline({}) is None
