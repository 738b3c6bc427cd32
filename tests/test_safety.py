"""A stranger's requests: every endpoint gets path-like names, the file server gets paths, uploads
are hostile, checkpoints are pickles. Each gets one sentence, nothing escapes, the server serves on."""

import zipfile
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from PIL import Image

import aigc
from aigc.errors import AigcError
from aigc.paths import OUTPUTS, ROOT, RUNS

ESCAPE = "aigc-escape-probe"
CLIMB = f"../../{ESCAPE}"
PICTURE = "a picture in the editor"  # stands for an uploaded picture in the Edit image tab's editor


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


# Every endpoint, with a name that tries to climb out of its folder where the endpoint takes a name.
PATH_LIKE = [
    ("/generate_text", ("A", CLIMB, 5, 0.8, 50, 0.95, 1), "Unknown model"),
    ("/generate_images", (CLIMB, 2, 1, 25, "dpm++"), "Unknown model"),
    ("/latent_walk", (CLIMB, 0, 1, 4), "Unknown model"),
    ("/reconstruct", (CLIMB,), "Unknown model"),
    ("/generate_conditional", ("3", CLIMB, 2, 3.0, 1, 25, "", 512, 512), "Unknown model"),
    ("/show_all_labels", (CLIMB, 1, 3.0, 25), "Unknown model"),
    ("/generate_video", ("red circle moving left", CLIMB, 16, 8, 1, 25, 9.0), "Unknown model"),
    ("/generate_audio", ("3 1 4", CLIMB, 1, 1, 16, 2.0, 1.0, 5.0), "Unknown model"),
    ("/fill_mask", ("Good night, sweet [MASK].", CLIMB, 5), "Unknown model"),
    ("/rewrite", ("Good night, sweet prince.", CLIMB, 1.0, "", 1), "Unknown model"),
    ("/start_training", ("dcgan", "digits", None, CLIMB, 5, 16, 2e-4, 0, 5), "letters, digits"),
    ("/resume_training", (CLIMB, 10), "letters, digits"),
    ("/watch_training", (CLIMB,), "letters, digits"),
    ("/download_run", (CLIMB,), "letters, digits"),
    ("/model_card", (CLIMB,), "Unknown model"),
    ("/upscale", (PICTURE, 2, CLIMB, "none", 0), "Unknown model"),
    ("/instruct", (PICTURE, "make it snowy", CLIMB, 2, 7.5, 0), "Unknown model"),
    ("/restyle", (PICTURE, CLIMB, None, 10, 1.0, 0), "Unknown style"),
]


@pytest.mark.parametrize("endpoint, args, words", PATH_LIKE, ids=[p[0] for p in PATH_LIKE])
def test_path_like_names_get_one_sentence_on_every_endpoint(client, endpoint, args, words, tmp_path):
    picture = tmp_path / "red.png"
    Image.new("RGB", (32, 32), "red").save(picture)
    editor = {"background": handle_file(str(picture)), "layers": [], "composite": None}
    args = tuple(editor if a == PICTURE else a for a in args)
    with pytest.raises(Exception, match=words) as caught:
        client.predict(*args, api_name=endpoint)
    assert "Traceback" not in str(caught.value) and len(str(caught.value)) < 400


def test_every_named_endpoint_is_in_the_suite(client):
    endpoints = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    covered = {p[0] for p in PATH_LIKE} | {"/image_to_image", "/inpaint", "/stop_training", "/restore"}
    assert endpoints <= covered, endpoints - covered


def test_hub_picture_endpoints_refuse_non_pictures_and_folders(client, tmp_path):
    fake = tmp_path / "photo.png"
    fake.write_text("#!/bin/sh\necho not a picture\n")
    with pytest.raises(Exception, match="not a picture this app can read"):
        client.predict(handle_file(str(fake)), "a cat", "stabilityai/sd-turbo", 0.6, 0.0, 1, 2, "", api_name="/image_to_image")
    picture = tmp_path / "real.png"
    Image.new("RGB", (64, 64), "red").save(picture)
    with pytest.raises(Exception, match="not folders on the server|Unknown model"):
        client.predict(handle_file(str(picture)), "a cat", str(ROOT / "checkpoints"), 0.6, 0.0, 1, 2, "",
                       api_name="/image_to_image")
    client.predict(None, api_name="/stop_training")  # nothing to stop is not an error


def test_a_zip_bomb_and_a_zip_that_climbs_out_are_refused_for_training(client, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/0.png", b"\0" * (60 * 2**20))  # 60 MB of zeros, a few hundred kB packed
    climber = tmp_path / "climber.zip"
    with zipfile.ZipFile(climber, "w") as archive:
        archive.writestr(f"../../{ESCAPE}.png", b"x")
    for archive, words in ((bomb, "too large to be a set of training images"), (climber, "points outside it")):
        with pytest.raises(Exception, match=words):
            client.predict("dcgan", "upload", handle_file(str(archive)), "", 5, 16, 2e-4, 0, 5, api_name="/start_training")


def test_the_file_server_serves_no_file_the_app_did_not_hand_out(app_url):
    for path in ("/etc/passwd", ROOT / "app.py", ROOT / "checkpoints" / "image" / "dcgan-digits" / "config.json",
                 RUNS, OUTPUTS, OUTPUTS / "images", OUTPUTS / "images" / "..", Path.home() / ".bashrc",
                 f"{OUTPUTS}/images/../../{OUTPUTS.name}", f"{ROOT}/../{ROOT.name}/README.md"):
        response = httpx.get(f"{app_url}gradio_api/file={path}")
        assert response.status_code in (403, 404), (path, response.status_code)


def test_a_built_in_name_is_a_folder_of_its_task_and_nothing_else():
    """Each request looks its model up by name in one task's folder: a path or another task's
    model must not pass for a built-in one."""
    from aigc import catalog

    shipped = next(m for m in catalog.builtin_models() if m.name == "dcgan-digits")
    assert catalog.resolve(" dcgan-digits ", "image") == shipped and shipped.card
    assert catalog.resolve("shakespeare-gpt", "image").source == "hub"  # a text model's name, asked as a picture one
    with catalog.names_from_the_web():
        for name in ("../image/dcgan-digits", "dcgan-digits/", "./dcgan-digits", "../text/shakespeare-gpt", "."):
            with pytest.raises(AigcError, match="Unknown model"):
                catalog.resolve(name, "image")


def test_a_pickle_checkpoint_is_refused_with_a_sentence(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models

    import torch

    folder = tmp_path / "pickled-gpt2"
    model = GPT2LMHeadModel(GPT2Config(vocab_size=16, n_positions=16, n_embd=8, n_layer=1, n_head=2))
    model.save_pretrained(folder)
    for weights in folder.glob("*.safetensors"):  # what an old or hostile checkpoint ships instead
        weights.unlink()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    tokenizer = Tokenizer(models.WordLevel({c: i for i, c in enumerate("abcdefghijklmno")} | {"[UNK]": 15}, unk_token="[UNK]"))
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]").save_pretrained(folder)
    assert (folder / "pytorch_model.bin").is_file() and not list(folder.glob("*.safetensors"))
    with pytest.raises(AigcError, match="only pickle weights .pytorch_model.bin., and this app never loads pickle files"):
        aigc.generate_text("abc", model=str(folder), max_new_tokens=3)


def test_nothing_escaped_and_the_server_still_serves(client):
    # runs last in this module (pytest keeps file order): the probes above wrote nothing outside the app's folders
    for base in {RUNS.parent, RUNS.parent.parent, OUTPUTS.parent, OUTPUTS.parent.parent, ROOT, ROOT.parent, Path("/tmp")}:
        assert not list(base.glob(f"{ESCAPE}*")), base
    text, _ = client.predict("A", "shakespeare-gpt", 5, 0.8, 50, 0.95, 1, api_name="/generate_text")
    assert text.startswith("A")
