"""The Hub as the registry sees it (aigc.hub): without a network a first request for an uncached Hub
id fails at once with its sentence, whatever the offline setting; what the Hub answers (no such
model, a gated one) and what the libraries raise become one sentence each, read from
huggingface_hub's typed exceptions; a Hub model with only pickle weights is refused by name."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import huggingface_hub.constants
import pytest

from aigc import hub, registry
from aigc.errors import AigcError

NOT_CACHED = "is not in the local cache and the Hugging Face Hub cannot be reached"


@pytest.fixture
def online(monkeypatch):
    """huggingface_hub's offline mode off (the tests' conftest turns it on), and the Hub asked afresh."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    hub.forget_answer()
    yield monkeypatch
    hub.forget_answer()


@pytest.fixture
def silent_hub(online):
    """A Hub endpoint that takes connections and never answers: how a dead proxy or a black-holed
    network looks. Yields the list of connections it took."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    taken: list[socket.socket] = []

    def take():
        while True:
            try:
                taken.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=take, daemon=True).start()
    online.setattr(huggingface_hub.constants, "ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    yield taken
    server.close()
    for conn in taken:
        conn.close()


@pytest.fixture
def answering_hub(online):
    """A Hub endpoint that answers every model question with the error header `X-Error-Code` it is told."""
    said = {"code": "RepoNotFound", "status": 404}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(said["status"])
            self.send_header("X-Error-Code", said["code"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": "no"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    online.setattr(huggingface_hub.constants, "ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    yield said
    server.shutdown()
    server.server_close()


def test_offline_mode_means_the_local_cache_alone():
    assert huggingface_hub.is_offline_mode()  # set by conftest, read through huggingface_hub's public helper
    assert hub.files_only("someone/anything")


# Seconds a first request may take beyond the quick question: huggingface_hub's own once-a-process
# look-ups and the libraries' search of the local cache, on a loaded machine.
SLACK = 15


def test_a_hub_that_does_not_answer_fails_a_first_request_at_once(silent_hub):
    """Offline mode off, no answer from the Hub: one quick question, then the local cache alone."""
    from diffusers import AutoPipelineForText2Image, DiffusionPipeline  # noqa: F401 - imported before the clock starts

    started = time.monotonic()
    with pytest.raises(AigcError, match=f"'someone/not-cached' {NOT_CACHED}"):
        registry.load("someone/not-cached", "image")
    first = time.monotonic() - started
    assert first < hub.ANSWER_SECONDS + SLACK, first  # one timed-out question, not the Hub client's retries
    asked = len(silent_hub)
    assert asked >= 1  # the Hub was asked (offline mode is off)
    started = time.monotonic()
    with pytest.raises(AigcError, match=f"'someone/other' {NOT_CACHED}"):
        registry.load("someone/other", "conditional")
    assert time.monotonic() - started < hub.ANSWER_SECONDS, "the Hub's silence is remembered for a while"
    assert len(silent_hub) == asked  # not asked again


def test_a_refused_connection_fails_as_fast(online):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    online.setattr(huggingface_hub.constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401 - imported before the clock starts

    started = time.monotonic()
    with pytest.raises(AigcError, match=NOT_CACHED):
        registry.load("someone/not-cached-either", "text")
    assert time.monotonic() - started < hub.ANSWER_SECONDS + SLACK


def test_a_hub_that_answers_is_asked(answering_hub):
    assert not hub.files_only("someone/missing")  # "no such model" is an answer: the Hub is there


@pytest.mark.parametrize("code, status, words", [
    ("RepoNotFound", 404, "'someone/missing' is not a model on the Hugging Face Hub"),
    ("GatedRepo", 403, "'someone/missing' is gated on the Hugging Face Hub: accept its terms"),
    ("RevisionNotFound", 404, "'someone/missing' has no such revision"),
    ("EntryNotFound", 404, "'someone/missing' lacks a file this app needs"),
])
def test_what_the_hub_said_becomes_one_sentence(answering_hub, code, status, words):
    answering_hub.update(code=code, status=status)
    with pytest.raises(Exception) as raised:
        huggingface_hub.HfApi().model_info("someone/missing", timeout=5)
    said = hub.load_error("someone/missing", raised.value).args[0]
    assert said.startswith(words)
    if code != "EntryNotFound":  # its sentence ends with the library's own words, which stay English
        from aigc.ui.i18n import translate

        assert "「someone/missing」" in translate(said, "zh") and "Hub" in translate(said, "zh")
        assert not any(w in translate(said, "zh") for w in ("model on", "gated", "revision"))  # Chinese, not English
    try:  # as transformers and diffusers raise it: wrapped in their own error
        raise OSError("We couldn't load the files") from raised.value
    except OSError as wrapped:
        assert hub.load_error("someone/missing", wrapped).args[0].startswith(words)


def test_an_error_without_a_hub_cause_keeps_its_first_line():
    error = hub.load_error("someone/model", ValueError("the config names no pipeline\nmore"))
    assert str(error) == "Could not load 'someone/model' from the Hugging Face Hub: the config names no pipeline"


def test_a_cached_hub_model_with_only_pickle_weights_is_refused_by_name(tmp_path, monkeypatch):
    """A Hub id in the local cache (placed there by hand, offline) whose weights are pickles."""
    commit = "0" * 40
    repo = tmp_path / "hub" / "models--aigc-tests--pickled"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text('{"_class_name": "DDPMPipeline", "unet": ["diffusers", "UNet2DModel"], '
                                               '"scheduler": ["diffusers", "DDPMScheduler"]}')
    (snapshot / "unet").mkdir()
    (snapshot / "unet" / "config.json").write_text("{}")
    (snapshot / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"not loaded")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert sorted(hub.repo_files("aigc-tests/pickled")) == ["model_index.json", "unet/config.json",
                                                            "unet/diffusion_pytorch_model.bin"]
    with pytest.raises(AigcError, match="'aigc-tests/pickled' has no safetensors weights, and this app never loads "
                                        "pickle files"):
        registry.load("aigc-tests/pickled", "image")
