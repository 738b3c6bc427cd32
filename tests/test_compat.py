"""aigc.compat: each use of a library's internals, on its private road (the versions it was checked on)
and on its public one (forced by making the version check fail); and a scan of the package that fails
when code outside aigc/compat.py touches a private name of gradio, torch, transformers, diffusers,
huggingface_hub or accelerate, or one of the undocumented features compat holds."""

from __future__ import annotations

import ast
from pathlib import Path

import gradio as gr
import pytest
import torch
from gradio.data_classes import _StaticFiles
from packaging.requirements import Requirement
from packaging.version import Version

from aigc import compat

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def unchecked(monkeypatch):
    """Every library looks like a version compat was not checked on: the public roads run."""
    monkeypatch.setattr(compat, "version_of", lambda distribution: Version("99.0"))


# ------------------------------------------------------------------------------- the version check

def test_the_installed_versions_are_the_checked_ones():
    """The suite runs on the versions the private roads were checked on (else their tests below
    would test the public roads twice), and those ranges are requirements.txt's."""
    required = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            required[req.name] = req.specifier
    for distribution, spec in compat.CHECKED.items():
        assert compat.checked(distribution), (distribution, compat.version_of(distribution), spec)
        assert required[distribution] == spec, distribution


def test_the_version_check_refuses_what_it_was_not_checked_on(monkeypatch):
    assert compat.version_of("gradio") == Version(gr.__version__)
    assert compat.version_of("no-such-distribution-here") is None
    for found, expected in [(None, False), ("6.30.9", False), ("6.31.0", True), ("6.99", True), ("7.0.0", False),
                            ("7.0.0rc1", False), ("6.31.0+local", True)]:
        monkeypatch.setattr(compat, "version_of", lambda d, found=found: found and Version(found))
        assert compat.checked("gradio") is expected, found


# ------------------------------------------------------------------------------------ gradio

def test_queue_records_are_shortened_on_the_checked_gradio_only(monkeypatch):
    env = {"GRADIO_ANALYTICS_CACHE_FREQUENCY": "7"}
    assert compat.quiet_gradio_queue_records(env) is True
    assert env == {"GRADIO_ANALYTICS_MAX_EVENTS": "1000", "GRADIO_ANALYTICS_CACHE_FREQUENCY": "7"}  # the user's stays
    monkeypatch.setattr(compat, "version_of", lambda distribution: Version("7.1"))
    env = {}
    assert compat.quiet_gradio_queue_records(env) is False
    assert env == {}


@pytest.fixture
def static_paths(monkeypatch, tmp_path):
    """Gradio's static folders as a fresh list holding one folder of someone else's."""
    theirs = (tmp_path / "theirs").resolve()
    monkeypatch.setattr(_StaticFiles, "all_paths", [theirs])
    monkeypatch.setattr(compat, "_served_statics", set())
    return theirs, [tmp_path / "images", tmp_path / "videos"]


def test_static_folders_go_first_on_the_checked_gradio(static_paths):
    theirs, ours = static_paths
    compat.serve_static_first(ours)
    compat.serve_static_first(ours)  # twice: still once each
    assert _StaticFiles.all_paths == [p.resolve() for p in ours] + [theirs]
    from gradio.utils import is_static_file

    assert is_static_file(ours[0] / "a.png") and not is_static_file(ours[0].parent / "elsewhere.png")


def test_static_folders_are_added_through_the_public_call_elsewhere(static_paths, unchecked, monkeypatch):
    theirs, ours = static_paths
    calls = []
    monkeypatch.setattr(gr, "set_static_paths",
                        lambda paths: calls.append(paths) or _StaticFiles.all_paths.extend(paths))
    compat.serve_static_first(ours)
    compat.serve_static_first(ours)
    assert calls == [[p.resolve() for p in ours]]  # once
    assert _StaticFiles.all_paths == [theirs] + [p.resolve() for p in ours]


def _translations():
    return gr.I18n(en={"hello": "Hello"}, zh={"hello": "你好"})


def test_translations_reach_the_config_before_launch_on_the_checked_gradio():
    with gr.Blocks() as demo:
        gr.Markdown("x")
    words = _translations()
    assert compat.attach_translations(demo, words) is True
    assert demo.get_config_file()["i18n_translations"]["zh"]["hello"] == "你好"


def test_translations_wait_for_launch_elsewhere(unchecked):
    with gr.Blocks() as demo:
        gr.Markdown("x")
    assert compat.attach_translations(demo, _translations()) is False
    assert demo.get_config_file()["i18n_translations"] is None  # launch(i18n=...) gives them


def _examples_demo():
    with gr.Blocks() as demo:
        prompt, model = gr.Textbox(label="prompt label"), gr.Dropdown(["a", "b"], label="model label")
        dataset = compat.examples_without_header([["first", "a"], ["second", "b"]], [prompt, model], label="Examples")
    return demo, dataset, prompt, model


def test_examples_have_no_header_on_the_checked_gradio():
    demo, dataset, _, _ = _examples_demo()
    assert isinstance(dataset, gr.Dataset) and dataset.headers == []
    config = next(c for c in demo.get_config_file()["components"] if c["id"] == dataset._id)
    assert config["props"]["headers"] == [] and config["props"]["samples"] == [["first", "a"], ["second", "b"]]


def test_examples_are_a_public_dataset_elsewhere(unchecked):
    demo, dataset, prompt, model = _examples_demo()
    config = next(c for c in demo.get_config_file()["components"] if c["id"] == dataset._id)
    assert config["props"]["headers"] == [] and config["props"]["samples"] == [["first", "a"], ["second", "b"]]
    click = [fn for fn in demo.fns.values() if [b._id for b in fn.inputs] == [dataset._id]]
    assert len(click) == 1 and [b._id for b in click[0].outputs] == [prompt._id, model._id]
    assert click[0].fn(dataset.preprocess(1)) == ["second", "b"]  # a click on the second row fills both inputs


# ------------------------------------------------------------------------------------- torch

def test_bf16_check_asks_onednn_on_the_checked_torch():
    assert compat.cpu_has_fast_bf16() is bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def test_bf16_check_reads_the_public_capabilities_elsewhere(unchecked, monkeypatch):
    # The public road agrees with oneDNN on this machine ...
    assert compat.cpu_has_fast_bf16() is bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    # ... and follows the capabilities it reads.
    for capabilities, expected in [({"avx512_bw": True, "avx512_vl": True, "avx512_dq": True}, True),
                                   ({"avx512_bw": True, "avx512_vl": True}, False), ({"bf16": True}, True),
                                   ({"avx2": True}, False)]:
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda c=capabilities: c)
        assert compat.cpu_has_fast_bf16() is (expected and torch.backends.mkldnn.is_available()), capabilities
    monkeypatch.delattr(torch.cpu, "get_capabilities")
    assert compat.cpu_has_fast_bf16() is False


def test_training_precision_uses_the_check(monkeypatch):
    from aigc.device import training_precision

    monkeypatch.setattr(compat, "cpu_has_fast_bf16", lambda: True)
    assert training_precision(torch.device("cpu")) == "bf16"
    monkeypatch.setattr(compat, "cpu_has_fast_bf16", lambda: False)
    assert training_precision(torch.device("cpu")) == "no"


# ------------------------------------------------------------------------------ transformers

@pytest.fixture(scope="module")
def tiny_lm():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=40, n_positions=64, n_embd=32, n_layer=2, n_head=2, eos_token_id=39,
                        bos_token_id=39)
    return GPT2LMHeadModel(config).eval()


def _decode(lm, lengths, others_wait_after=None):
    """Rows of different prompt lengths, left-padded; each ends at its own length, or all at once after
    `others_wait_after` steps. Tokens are chosen as the top score but one, so the choice is the caller's."""
    prompts = [[5, 6, 7, 8, 9], [11, 12], [20, 21, 22]]
    longest = max(map(len, prompts))
    ids = torch.tensor([[0] * (longest - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (longest - len(p)) + [1] * len(p) for p in prompts])
    made, steps, seen = [[] for _ in prompts], [0], []

    def choose(input_ids, scores):
        seen.append(input_ids.shape)
        return scores.topk(2, dim=-1).indices[:, 1]

    def emit(tokens):
        steps[0] += 1
        for i, token in enumerate(tokens):
            if len(made[i]) < lengths[i]:
                made[i].append(token)

    def stop_rows(input_ids):
        if others_wait_after is not None and steps[0] >= others_wait_after:
            return [True] * len(prompts)
        return [len(m) >= n for m, n in zip(made, lengths)]

    compat.generate_rows(lm, ids, mask, max_new_tokens=max(lengths), pad=0, choose=choose, emit=emit,
                         stop_rows=stop_rows)
    return made, steps[0], seen


def test_both_roads_decode_the_same_rows(tiny_lm, monkeypatch):
    with torch.inference_mode():
        on_generate = _decode(tiny_lm, [6, 2, 4])
        monkeypatch.setattr(compat, "version_of", lambda distribution: Version("99.0"))
        by_hand = _decode(tiny_lm, [6, 2, 4])
    made, steps, seen = on_generate
    assert [len(m) for m in made] == [6, 2, 4] and steps == 6
    assert len(set(map(tuple, made))) == 3  # the rows differ: each followed its own prompt
    assert seen[0] == (3, 5) and seen[-1] == (3, 10)  # `choose` sees the context so far
    assert by_hand == on_generate


def test_a_round_ends_for_every_row_at_once(tiny_lm, monkeypatch):
    with torch.inference_mode():
        on_generate = _decode(tiny_lm, [6, 6, 6], others_wait_after=3)
        monkeypatch.setattr(compat, "version_of", lambda distribution: Version("99.0"))
        by_hand = _decode(tiny_lm, [6, 6, 6], others_wait_after=3)
    assert on_generate[1] == 3 and [len(m) for m in on_generate[0]] == [3, 3, 3]
    assert by_hand == on_generate


def test_steps_past_the_end_are_ignored():
    """A step the library runs after every row ended (then undone) reaches neither `choose` nor `emit`."""
    calls = []
    rows = compat._Rows(lambda ids, scores: calls.append("choose") or [3, 4], lambda tokens: calls.append(tokens),
                        lambda ids: [True, True], 2, 0, torch.device("cpu"))
    ids = torch.tensor([[1, 2], [1, 2]])
    assert rows.pick(ids, torch.zeros(2, 8)).tolist() == [3, 4]
    assert rows.finished(torch.tensor([[1, 2, 3], [1, 2, 4]])).tolist() == [True, True]
    assert rows.pick(ids, torch.zeros(2, 8)).tolist() == [0, 0]
    assert rows.finished(torch.tensor([[1, 2, 3, 0], [1, 2, 4, 0]])).tolist() == [True, True]
    assert calls == ["choose", [3, 4]]


# ------------------------------------------------------------------------ the scan of the package

LIBRARIES = {"gradio", "gradio_client", "torch", "torchvision", "transformers", "diffusers", "huggingface_hub",
             "accelerate", "safetensors", "tokenizers"}
# Undocumented features compat holds, by the name that gives them away.
UNDOCUMENTED_ATTRIBUTES = {"i18n_instance", "all_paths", "progress_bar"}  # progress_bar: only as an assignment
UNDOCUMENTED_STRINGS = ("GRADIO_ANALYTICS_MAX_EVENTS", "GRADIO_ANALYTICS_CACHE_FREQUENCY")
# Underscore names of the standard library that it documents as public.
DOCUMENTED_UNDERSCORE = {"_exit", "_getframe", "_replace", "_asdict", "_fields", "_field_defaults", "_make",
                         "_current_frames"}


def _sources() -> list[Path]:
    files = [*sorted((ROOT / "aigc").rglob("*.py")), ROOT / "app.py", *sorted((ROOT / "scripts").glob("*.py"))]
    return [f for f in files if f != ROOT / "aigc" / "compat.py"]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _root(node: ast.expr) -> str | None:
    """The name an attribute chain starts from: `torch` in `torch.ops.mkldnn.f()`."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _own_private_names(trees: dict[Path, ast.AST]) -> set[str]:
    """Every underscore name the project defines itself: functions, classes, variables, attributes it
    assigns (`self._x = ...`), parameters, import aliases."""
    names = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
    return {n for n in names if _private(n)}


def _library(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in LIBRARIES


def scan(files: list[Path], top: Path = ROOT) -> list[str]:
    """Places outside compat that touch a library's internals: `from lib import _x`, `import lib._mod`,
    `lib_name...._x` where the chain starts at a name imported from a library, `obj._x` where `_x` is no
    name of the project's own, and the undocumented features compat holds."""
    trees = {f: ast.parse(f.read_text(encoding="utf-8"), str(f)) for f in files}
    own = _own_private_names(trees)
    found = []
    for path, tree in trees.items():
        where = lambda node, path=path: f"{path.relative_to(top)}:{node.lineno}"
        from_libraries = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _library(alias.name):
                        from_libraries.add(alias.asname or alias.name.split(".")[0])
                        if any(_private(part) for part in alias.name.split(".")):
                            found.append(f"{where(node)}: import {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and _library(node.module):
                for alias in node.names:
                    from_libraries.add(alias.asname or alias.name)
                    if _private(alias.name) or any(_private(part) for part in node.module.split(".")):
                        found.append(f"{where(node)}: from {node.module} import {alias.name}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"getattr", "setattr", "hasattr"}
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str)):  # getattr(obj, "_x"): obj._x by another spelling
                name, store = node.args[1].value, node.func.id == "setattr"
                node = ast.Attribute(node.args[0], name, ast.Store() if store else ast.Load(), lineno=node.lineno)
            if isinstance(node, ast.Attribute):
                if _private(node.attr) and node.attr not in DOCUMENTED_UNDERSCORE:
                    root = _root(node.value)
                    if root in from_libraries:
                        found.append(f"{where(node)}: {root}...{node.attr}")
                    elif node.attr not in own and root != "self":
                        found.append(f"{where(node)}: ...{node.attr} (no name of this project's)")
                store = isinstance(node.ctx, ast.Store)
                if node.attr in UNDOCUMENTED_ATTRIBUTES and (node.attr != "progress_bar" or store):
                    found.append(f"{where(node)}: .{node.attr}")
                if node.attr == "headers" and store and getattr(node.value, "attr", "") == "dataset":
                    found.append(f"{where(node)}: an example dataset's headers set by hand")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [f"{where(node)}: {s}" for s in UNDOCUMENTED_STRINGS if s in node.value]
    return found


def test_nothing_outside_compat_touches_library_internals():
    assert scan(_sources()) == []


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """Each kind of use the scan exists for, in a file of its own; and the project's own private names,
    which it must leave alone."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os\nimport torch\nimport gradio as gr\nimport gradio._private\n"
        "from gradio.data_classes import _StaticFiles\nfrom transformers.generation import _helpers\n"
        "ok = torch.ops.mkldnn._is_mkldnn_bf16_supported()\n"
        "x = gr.Blocks()._queue\n"
        "def f(model):\n    return model._modules\n"
        "def g(demo, examples, pipe):\n"
        "    demo.i18n_instance = 1\n    examples.dataset.headers = []\n    pipe.progress_bar = None\n"
        "    os.environ['GRADIO_ANALYTICS_MAX_EVENTS'] = '1'\n"
        "    return getattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported', None), setattr(pipe, 'progress_bar', 1)\n")
    good = tmp_path / "good.py"
    good.write_text(
        "import os\nimport threading\n_cache = {}\n\n"
        "class _Job:\n    def __init__(self):\n        self._done = threading.Event()\n\n"
        "    def wait(self, other):\n        return self._done.wait() and other._done.is_set()\n\n"
        "    def _finished(self):\n        return True\n\n"
        "def _helper(round_):\n    return round_._finished, _cache, os._exit, _Job()\n\n"
        "def show(bar):\n    return bar.progress_bar, os.environ.get('GRADIO_SERVER_PORT')\n")
    found = scan([bad, good], tmp_path)
    assert all(line.startswith("bad.py:") for line in found), found
    lines = {int(line.split(":")[1]) for line in found}
    assert lines == {4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16}, found
    assert len([line for line in found if line.startswith("bad.py:16:")]) == 2, found
