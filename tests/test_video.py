"""Text to video through the public API: the built-in path on a tiny random text2video checkpoint,
the Hub path on a tiny random diffusers text-to-video pipeline, and the files both write, checked
with the ffmpeg that imageio-ffmpeg ships."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

import aigc
from aigc.errors import AigcError
from aigc.paths import OUTPUTS
from aigc.pipelines.video import enlarge, generate_video, make_clip, to_uint8
from conftest import probe_video as probe

CAPTION = "a large red star in the top right moving left"


def decoded(path) -> np.ndarray:
    return np.stack(list(iio.imiter(path, plugin="FFMPEG")))


def one_sentence(exc) -> bool:
    text = str(exc.value)
    return text.endswith(".") and "\n" not in text and "Traceback" not in text


# -- the built-in path -------------------------------------------------------------------------------

def test_a_caption_becomes_an_h264_mp4_that_browsers_play(tiny_text2video):
    path = generate_video(CAPTION, model=str(tiny_text2video), num_frames=12, fps=6, seed=3)
    assert path.is_file() and path.suffix == ".mp4" and path.parent == OUTPUTS / "videos"
    info = probe(path)
    assert (info["codec"], info["pix_fmt"], info["frames"], info["fps"]) == ("h264", "yuv420p", 12, 6.0)
    assert info["width"] >= 256 and info["width"] % 2 == 0 and info["height"] % 2 == 0  # 32x32, enlarged 8x


def test_the_mp4_shows_the_frames_the_model_drew(tiny_text2video):
    clip = make_clip(CAPTION, model=str(tiny_text2video), num_frames=16, fps=8, seed=3)
    assert clip.frames.shape == (16, 32, 32, 3) and clip.frames.dtype == np.uint8
    movie = decoded(clip.save("mp4"))
    assert movie.shape == (16, 256, 256, 3)
    centers = movie[:, 4::8, 4::8].astype(int)  # the middle of each enlarged 8x8 pixel
    assert np.abs(centers - clip.frames).mean() < 6  # H.264 is lossy, but at CRF 10 barely


def test_the_seed_fixes_the_clip_and_fewer_frames_are_its_start(tiny_text2video):
    model = str(tiny_text2video)
    a = decoded(generate_video(CAPTION, model=model, num_frames=8, fps=8, seed=5))
    b = decoded(generate_video(CAPTION, model=model, num_frames=8, fps=8, seed=5))
    c = decoded(generate_video(CAPTION, model=model, num_frames=8, fps=8, seed=6))
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - c).mean() > 1
    full = make_clip(CAPTION, model=model, num_frames=16, seed=5).frames
    assert np.array_equal(make_clip(CAPTION, model=model, num_frames=4, seed=5).frames, full[:4])
    # a partial caption is a caption too, and a different one gives a different clip
    assert not np.array_equal(make_clip("blue circle bouncing", model=model, num_frames=4, seed=5).frames, full[:4])


def test_gif_loops_at_the_requested_speed(tiny_text2video):
    path = generate_video("green square moving up", model=str(tiny_text2video), num_frames=10, fps=5, seed=1, format="GIF")
    assert path.suffix == ".gif"
    with Image.open(path) as gif:
        assert gif.n_frames == 10 and gif.info["loop"] == 0 and gif.info["duration"] == 200
        assert gif.width >= 256


def test_the_frame_strip_shows_every_frame(tiny_text2video):
    clip = make_clip("red", model=str(tiny_text2video), num_frames=16, seed=0)
    strip = clip.strip(nrow=8, scale=2)
    assert strip.size == ((8 * 34 + 2) * 2, (2 * 34 + 2) * 2)  # torchvision make_grid pads by 2
    assert clip.strip().size == (16 * 34 + 2, 36)


@pytest.mark.parametrize("kwargs, words", [
    (dict(prompt=""), "Type a caption"),
    (dict(prompt="   "), "Type a caption"),
    (dict(prompt="a red dragon flying"), r"does not know 'dragon', 'flying'; it knows: red, green.*bouncing"),
    (dict(prompt="the a an"), "names nothing"),
    (dict(prompt="x" * 10_000), "10,000 characters long; the limit is 1,000"),
    (dict(prompt=["red"]), "must be text"),
    (dict(num_frames=1), "number of frames must be between 2 and 16"),
    (dict(num_frames=17), "number of frames must be between 2 and 16"),
    (dict(num_frames=2.5), "number of frames must be a whole number"),
    (dict(fps=0), "fps must be between 1 and 30"),
    (dict(fps=31), "fps must be between 1 and 30"),
    (dict(fps=float("nan")), "fps must be a finite number"),
    (dict(fps="fast"), "fps must be a number, not 'fast'"),
    (dict(seed=-5), r"seed must be -1 \(a new random seed\) or a whole number from 0"),
    (dict(format="avi"), "Unknown video format 'avi'; choose mp4 or gif"),
    (dict(format=None), "Unknown video format"),
])
def test_bad_input_gets_one_sentence(tiny_text2video, kwargs, words):
    args = {"prompt": CAPTION, "model": str(tiny_text2video), "num_frames": 4, **kwargs}
    with pytest.raises(AigcError, match=words) as info:
        generate_video(**args)
    assert one_sentence(info), info.value


def test_unknown_models_get_one_sentence():
    with pytest.raises(AigcError, match="Unknown model 'no such model!'") as info:
        generate_video(CAPTION, model="no such model!")
    assert one_sentence(info)
    with pytest.raises(AigcError, match="not in the local cache") as info:
        generate_video("a cat", model="someone/not-a-cached-text-to-video")
    assert one_sentence(info)


def test_models_of_other_tasks_are_refused(tiny_gpt2, tiny_sd, tmp_path):
    picture_model = tmp_path / "text2img-folder"
    picture_model.mkdir()
    (picture_model / "config.json").write_text(json.dumps({"kind": "text2img"}))
    for model, words in ((tiny_gpt2, "is a gpt2 model, not a text-to-video generator"),
                         (picture_model, "is a 'text2img' model, not a text-to-video generator"),
                         (tiny_sd, "is a StableDiffusionPipeline, not a text-to-video pipeline")):
        with pytest.raises(AigcError, match=words) as info:
            generate_video("a cat", model=str(model), num_frames=4)
        assert one_sentence(info), info.value


# -- the Hub path, on a tiny random text-to-video pipeline --------------------------------------------

def test_a_diffusers_text_to_video_pipeline_loads_by_path(tiny_t2v):
    model = str(tiny_t2v)
    a = make_clip("a panda playing guitar", model=model, num_frames=4, fps=4, seed=3, steps=2)
    b = make_clip("a panda playing guitar", model=model, num_frames=4, fps=4, seed=3, steps=2)
    c = make_clip("a panda playing guitar", model=model, num_frames=4, fps=4, seed=3, steps=2, guidance_scale=2)
    assert a.frames.shape == (4, 16, 16, 3) and a.frames.dtype == np.uint8
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)
    info = probe(a.save("mp4"))
    assert (info["codec"], info["pix_fmt"], info["frames"], info["fps"], info["width"]) == ("h264", "yuv420p", 4, 4.0, 256)
    path = generate_video("a panda", model=model, num_frames=3, fps=2, seed=1, steps=2, format="gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == (256, 256)


def test_the_hub_default_is_a_wan_pipeline_and_draws_clips_through_the_app_path(tiny_wan, tmp_path):
    from diffusers import WanPipeline

    from aigc.pipelines.video import DEFAULT_HUB_MODEL
    from aigc.registry import load

    assert DEFAULT_HUB_MODEL == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    assert [m.name for m in aigc.list_models("video") if m.source == "hub"] == [DEFAULT_HUB_MODEL]
    assert type(load(str(tiny_wan), "video").net) is WanPipeline  # through DiffusionPipeline.from_pretrained, as any id
    model = str(tiny_wan)
    # Wan decodes 1 + 4k frames: 6 are the first 6 of 9, not the 5 the pipeline would round down to
    six = make_clip("a red fox", model=model, num_frames=6, fps=4, seed=1, steps=2, width=64, height=64)
    nine = make_clip("a red fox", model=model, num_frames=9, fps=4, seed=1, steps=2, width=64, height=64)
    assert six.frames.shape == (6, 64, 64, 3) and np.array_equal(six.frames, nine.frames[:6])
    path = generate_video("a red fox", model=model, num_frames=6, fps=4, seed=1, steps=2, width=64, height=79)
    info = probe(path)
    assert (info["codec"], info["frames"], info["width"], info["height"]) == ("h264", 6, 256, 256)  # 79 high: 64
    with pytest.raises(AigcError, match="width must be between 64 and"):
        generate_video("a red fox", model=model, num_frames=6, steps=1, width=32)
    from aigc.__main__ import main

    assert main(["generate", "video", "a red fox", "--model", model, "--frames", "5", "--steps", "1", "--width", "64",
                 "--height", "64", "--out", str(tmp_path)]) == 0
    assert probe(next(tmp_path.glob("*.mp4")))["frames"] == 5


@pytest.mark.parametrize("kwargs, words", [
    (dict(prompt=" "), "Type a prompt that describes the clip"),
    (dict(num_frames=65), "number of frames must be between 2 and 64"),
    (dict(steps=0), "steps must be between 1 and 100"),
    (dict(steps=10_000), "steps must be between 1 and 100"),
    (dict(guidance_scale=-1), "guidance scale must be between 0 and 30"),
    (dict(guidance_scale="lots"), "guidance scale must be a number"),
])
def test_bad_hub_requests_get_one_sentence(tiny_t2v, kwargs, words):
    args = {"prompt": "a panda", "model": str(tiny_t2v), "num_frames": 2, "steps": 1, **kwargs}
    with pytest.raises(AigcError, match=words) as info:
        generate_video(**args)
    assert one_sentence(info), info.value


# -- helpers, the package and the command line ---------------------------------------------------------

def test_frames_of_any_shape_become_even_sized_rgb_bytes():
    floats = np.random.default_rng(0).random((3, 15, 21, 3), dtype=np.float32)
    as_bytes = to_uint8(floats)
    assert as_bytes.dtype == np.uint8 and as_bytes.shape == (3, 15, 21, 3)
    assert np.array_equal(to_uint8([Image.fromarray(f) for f in as_bytes]), as_bytes)
    import torch

    assert to_uint8(torch.zeros(2, 1, 8, 8)).shape == (2, 8, 8, 3)  # (T, C, H, W) grayscale tensors
    big = enlarge(as_bytes)
    assert big.shape == (3, 13 * 15 + 1, 13 * 21 + 1, 3)  # 13x reaches 256 wide; padded to even sides
    assert np.array_equal(big[:, :13, :13], np.broadcast_to(as_bytes[:, :1, :1], (3, 13, 13, 3)))  # nearest neighbour


def test_the_package_and_the_cli_serve_video(tiny_text2video, tmp_path, capsys):
    from aigc.__main__ import main

    assert aigc.generate_video is generate_video
    assert "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in [m.name for m in aigc.list_models("video")]
    assert main(["list", "video"]) == 0 and "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in capsys.readouterr().out
    assert main(["generate", "video", "a red circle moving left", "--model", str(tiny_text2video), "--frames", "6",
                 "--fps", "3", "--seed", "2", "--out", str(tmp_path)]) == 0
    written = list(tmp_path.glob("*.mp4"))
    assert len(written) == 1 and str(written[0]) in capsys.readouterr().out and probe(written[0])["frames"] == 6
    assert main(["generate", "video", "a red dragon", "--model", str(tiny_text2video)]) == 2
    assert capsys.readouterr().err.startswith("error: 'text2video-tiny' does not know 'dragon'")


def test_the_tab_shows_the_hub_controls_for_hub_models():
    from aigc.ui.video_tab import _controls_for

    steps, guidance, frames, prompt = _controls_for("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    assert steps["visible"] and guidance["visible"] and frames["maximum"] == 64
    assert prompt["label"].key == "common.prompt"  # the page shows "Prompt" or "提示词"


@pytest.mark.slow  # a training run
def test_text2video_trains_through_the_trainer_and_learns_to_name_attributes(tmp_path):
    import json

    import aigc

    events = list(aigc.train("text2video", "moving-shapes", steps=40, seed=0, out=tmp_path, width=8, d_width=8, embed=8,
                             z_dim=8, clips=256, batch_size=8, eval_every=40, sample_every=40, checkpoint_every=40,
                             device="cpu"))
    steps = [e.data for e in events if e.type == "step"]
    # the discriminator's attribute heads (color, shape, motion...) learn from real clips: their loss falls
    assert steps[-1]["d_aux"] < 0.85 * steps[0]["d_aux"]
    assert all(d["d_real"] > d["d_fake"] for d in steps[-2:])
    assert {"motion_accuracy", "color_accuracy", "color_consistency"} <= set(next(e for e in events if e.type == "eval").data)
    config = json.loads((tmp_path / "best" / "config.json").read_text())
    assert config["kind"] == "text2video" and config["frames"] == 16 and "bouncing" in config["vocabulary"]
