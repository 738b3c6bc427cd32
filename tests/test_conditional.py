"""Conditional image generation through the public API: label and caption models trained
here for a few steps, and the Hub path on a tiny random Stable Diffusion pipeline."""

import numpy as np
import pytest
import torch
from PIL import Image

import aigc
from aigc.errors import AigcError
from aigc.models.cgan import CaptionEncoder, Vocabulary
from aigc.pipelines.conditional import generate_conditional, image_to_image, inpaint, label_rows
from aigc.ui.editor import mask_from_editor as _mask_from_editor


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """cgan, text2img and guided-diffusion runs of a few steps, loaded by folder."""
    folders = {}
    for kind, dataset, sizes in (("cgan", "digits", dict(width=8, z_dim=16)), ("text2img", "shapes", dict(width=8, z_dim=16)),
                                 ("guided-diffusion", "digits", dict(width=8, sample_steps=2))):
        out = tmp_path_factory.mktemp(kind)
        last = aigc.train(kind, dataset, steps=2, seed=0, out=out, batch_size=8, eval_every=100, sample_every=100,
                          checkpoint_every=100, **sizes).wait()
        assert last is not None and last.type != "error", last
        folders[kind] = str(out / "checkpoint" / "model")
    return folders


def arrays(images):
    return [np.asarray(im, dtype=np.int16) for im in images]


def one_sentence(exc) -> bool:
    text = str(exc.value)
    return text.endswith(".") and "\n" not in text and "Traceback" not in text


def test_vocabulary_keeps_known_words_and_names_the_unknown():
    vocab = Vocabulary(["red", "circle", "top", "left"], filler=["a", "in", "the"])
    assert vocab.unknown("A red Circle in the top left") == []
    assert vocab.unknown("a red dragon, in the sky!") == ["dragon", "sky"]
    ids = vocab.encode(["red circle", "", "a circle in the top left corner red red"], length=4)
    assert ids.tolist() == [[1, 2, 0, 0], [0, 0, 0, 0], [2, 3, 4, 1]]


def test_the_caption_encoder_reads_words_and_order_and_handles_nothing_said():
    torch.manual_seed(0)
    enc = CaptionEncoder(vocab_size=6, dim=16, length=4).eval()
    ids = torch.tensor([[1, 2, 0, 0], [2, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 0]])
    out = enc(ids)
    assert out.shape == (4, 16) and torch.isfinite(out).all()
    assert not torch.allclose(out[0], out[3])  # different words, different vectors
    assert torch.allclose(out[2], enc.out(enc.nothing))  # an empty caption is the learned "nothing"


@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_label_models_draw_every_label_and_the_seed_fixes_the_images(tiny_models):
    for kind in ("cgan", "guided-diffusion"):
        folder = tiny_models[kind]
        a = generate_conditional("7", model=folder, num_images=3, seed=5)
        b = generate_conditional(7, model=folder, num_images=3, seed=5)  # an int names the same label
        c = generate_conditional("7", model=folder, num_images=3, seed=6)
        assert [im.size for im in a] == [(32, 32)] * 3 and a[0].mode == "L"
        assert all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(b)))
        assert not np.array_equal(arrays(a)[0], arrays(c)[0])
        labels, rows = label_rows(folder, per_label=2, seed=5)
        assert labels == [str(i) for i in range(10)] and len(rows) == 20
        # row "7" uses the same seeds as generate_conditional("7")
        assert np.abs(arrays(rows[14:16])[0] - arrays(a)[0]).max() <= 1


@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_the_label_changes_the_image(tiny_models):
    a = arrays(generate_conditional("1", model=tiny_models["cgan"], num_images=2, seed=0))
    b = arrays(generate_conditional("8", model=tiny_models["cgan"], num_images=2, seed=0))
    assert not np.array_equal(a[0], b[0])


@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_guidance_changes_diffusion_samples_and_is_checked(tiny_models):
    folder = tiny_models["guided-diffusion"]
    a = arrays(generate_conditional("3", model=folder, num_images=1, seed=0, guidance_scale=1))
    b = arrays(generate_conditional("3", model=folder, num_images=1, seed=0, guidance_scale=6))
    assert not np.array_equal(a[0], b[0])
    for bad in (-1, 31, float("nan"), "lots"):
        with pytest.raises(AigcError, match="guidance scale") as info:
            generate_conditional("3", model=folder, num_images=1, guidance_scale=bad)
        assert one_sentence(info)


@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_captions_follow_partial_captions_and_refuse_unknown_words(tiny_models):
    folder = tiny_models["text2img"]
    images = generate_conditional("a large red star in the top right", model=folder, num_images=2, seed=0)
    assert images[0].size == (32, 32) and images[0].mode == "RGB"
    assert len(generate_conditional("red", model=folder, num_images=1, seed=0)) == 1
    with pytest.raises(AigcError, match="does not know 'dragon'; it knows: red, green") as info:
        generate_conditional("a red dragon", model=folder)
    assert one_sentence(info)


@pytest.mark.parametrize("condition, words", [
    ("", "Type a caption"),
    ("   ", "Type a caption"),
    ("the a an", "names nothing"),
    ("x" * 10_000, "10,000 characters long; the limit is 1,000"),
    (["red"], "must be text"),
])
@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_bad_captions_get_one_sentence(tiny_models, condition, words):
    with pytest.raises(AigcError, match=words) as info:
        generate_conditional(condition, model=tiny_models["text2img"], num_images=1)
    assert one_sentence(info)


@pytest.mark.parametrize("condition, words", [("", "Choose a label"), ("11", "'11' is not a label"),
                                              ("seven", "it draws 0, 1, 2"), (None, "Choose a label"),
                                              (3.5, "Choose a label")])
@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_labels_that_do_not_exist_get_one_sentence(tiny_models, condition, words):
    with pytest.raises(AigcError, match=words) as info:
        generate_conditional(condition, model=tiny_models["cgan"], num_images=1)
    assert one_sentence(info)


@pytest.mark.parametrize("kwargs, words", [(dict(num_images=0), "number of images"), (dict(steps=0), "steps must be"),
                                           (dict(steps=10_000), "steps must be"), (dict(seed=-5), "seed must be")])
@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_numbers_out_of_range_get_one_sentence(tiny_models, kwargs, words):
    with pytest.raises(AigcError, match=words):
        generate_conditional("7", model=tiny_models["guided-diffusion"], **{"num_images": 1, **kwargs})


@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_a_caption_model_has_no_label_rows(tiny_models):
    with pytest.raises(AigcError, match="follows captions"):
        label_rows(tiny_models["text2img"])


# -- the Hub path, on a tiny random Stable Diffusion pipeline -----------------------------------------

def test_text_to_image_loads_a_diffusers_pipeline_by_path(tiny_sd):
    a = generate_conditional("a red fox", model=str(tiny_sd), num_images=2, seed=3, steps=2, width=64, height=72)
    b = generate_conditional("a red fox", model=str(tiny_sd), num_images=2, seed=3, steps=2, width=64, height=72)
    c = generate_conditional("a red fox", model=str(tiny_sd), num_images=1, seed=4, steps=2, width=64, height=72,
                             negative_prompt="blue", guidance_scale=5)
    assert [im.size for im in a] == [(64, 72)] * 2  # 72 is a multiple of 8; the VAE needs it
    assert all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(b)))
    assert np.abs(arrays(c)[0] - arrays(a)[1]).max() > 0  # image 1 of seed 3 is drawn from seed 4, but guided here


def test_image_to_image_and_inpainting_run_on_the_same_weights(tiny_sd):
    picture = Image.new("RGB", (80, 64), (200, 30, 30))
    out = image_to_image(picture, "a blue fox", model=str(tiny_sd), strength=0.5, seed=1, steps=2)
    assert len(out) == 1 and out[0].size == (80, 64)
    mask = Image.new("L", (80, 64), 0)
    mask.paste(255, (10, 10, 40, 40))
    out = inpaint(picture, mask, "a blue fox", model=str(tiny_sd), seed=1, steps=2)
    assert out[0].size == (80, 64)


@pytest.mark.slow  # tiny_models trains three runs first: seconds on 2 cores
def test_bad_uploads_and_masks_get_one_sentence(tiny_sd, tiny_models, tmp_path):
    picture = Image.new("RGB", (80, 64), (200, 30, 30))
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("this is text, not a PNG")
    huge = Image.new("RGB", (5000, 4000))
    cases = [
        (lambda: inpaint(picture, Image.new("L", (10, 10), 255), "x", model=str(tiny_sd)), "mask is 10x10 but the image is 80x64"),
        (lambda: inpaint(picture, Image.new("L", (80, 64), 0), "x", model=str(tiny_sd)), "mask is empty"),
        (lambda: inpaint(picture, None, "x", model=str(tiny_sd)), "Upload a mask"),
        (lambda: image_to_image(str(not_an_image), "x", model=str(tiny_sd)), "not a picture"),
        (lambda: image_to_image(huge, "x", model=str(tiny_sd)), "5000x4000 pixels; the limit"),
        (lambda: image_to_image(None, "x", model=str(tiny_sd)), "Upload an image"),
        (lambda: image_to_image(picture, "", model=str(tiny_sd)), "Type a prompt"),
        (lambda: image_to_image(picture, "x", model=str(tiny_sd), strength=2), "strength must be"),
        (lambda: image_to_image(picture, "x", model=tiny_models["cgan"]), "needs a Hub pipeline"),
        (lambda: generate_conditional("x", model=str(tiny_sd), width=10_000), "width must be between 64 and"),
    ]
    for call, words in cases:
        with pytest.raises(AigcError, match=words) as info:
            call()
        assert one_sentence(info), info.value


def test_an_uncached_hub_id_offline_is_one_sentence():
    with pytest.raises(AigcError, match="not in the local cache"):
        generate_conditional("a cat", model="someone/not-a-cached-text-to-image")


def test_a_text_model_folder_is_refused(tiny_gpt2):
    with pytest.raises(AigcError, match="not a conditional image generator"):
        generate_conditional("a cat", model=str(tiny_gpt2))


def test_the_image_editor_strokes_become_the_mask():
    background = Image.new("RGB", (40, 30), (0, 0, 255))
    strokes = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    strokes.paste((255, 255, 255, 255), (5, 5, 15, 10))
    image, mask = _mask_from_editor({"background": background, "layers": [strokes], "composite": background})
    painted = np.asarray(mask) > 0
    assert image is background and painted.sum() == 10 * 5 and painted[7, 10] and not painted[20, 30]
    assert _mask_from_editor(None) == (None, None)


def test_captions_parse_to_attributes_in_any_word_order():
    from aigc.data.shapes import VOCABULARY, complete, parse_caption

    assert parse_caption("a large red star in the top right") == {"size": "large", "color": "red", "shape": "star",
                                                                  "position": "top right"}
    assert parse_caption("Star, RED, right top") == {"color": "red", "shape": "star", "position": "top right"}
    assert parse_caption("purple") == {"color": "purple"}
    assert parse_caption("a circle in the center") == {"shape": "circle", "position": "center"}
    assert parse_caption("at the bottom") == {"position": "bottom"}
    import random

    filled = [complete({"color": "red"}, random.Random(i)) for i in range(40)]
    assert all(f["color"] == "red" and set(f) == set(VOCABULARY) for f in filled)
    assert len({f["shape"] for f in filled}) == 4 and len({f["position"] for f in filled}) >= 6  # drawn, not fixed
    assert complete({"color": "red"}, random.Random(3)) == complete({"color": "red"}, random.Random(3))
