"""The one door to library internals: every use of a private or undocumented feature of gradio, torch
or transformers lives here, and nowhere else in the package (tests/test_compat.py scans for strays).

Each function does one job. It takes the private road only on the versions of the library it was
checked on (`CHECKED`, the same ranges as requirements.txt: from the version the project is tested
with up to the next major) and only when the internal still has the shape it expects; anywhere else
it takes a public road to the same result, or, where there is none, leaves the library's own
behaviour in place. The private roads are kept because they make the app faster or its page read
better, never because it would break without them; see docs/architecture.md for where they sit.

Importing this module imports neither gradio nor torch: `quiet_gradio_queue_records` must run before
gradio is loaded, and the rest import their library when called.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
from collections.abc import Callable, MutableMapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["CHECKED", "accelerate_precision", "attach_translations", "checked", "cpu_has_fast_bf16", "examples_without_header",
           "forget_accelerate_precision", "generate_rows", "quiet_gradio_queue_records", "serve_static_first", "version_of"]

# Where each private road was checked: the distribution, then the versions it runs on.
CHECKED: dict[str, SpecifierSet] = {
    "accelerate": SpecifierSet(">=1.15,<2"),
    "gradio": SpecifierSet(">=6.31,<7"),
    "torch": SpecifierSet(">=2.14,<3"),
    "transformers": SpecifierSet(">=5.23,<6"),
}


def version_of(distribution: str) -> Version | None:
    """The installed version of `distribution`, or None when it is not installed (or says nonsense)."""
    try:
        return Version(importlib.metadata.version(distribution))
    except (importlib.metadata.PackageNotFoundError, InvalidVersion):
        return None


def checked(distribution: str) -> bool:
    """Whether the installed `distribution` is one whose internals this module was checked against.
    A local build (`2.14.1+cpu`) counts as its release; a pre-release does not."""
    found = version_of(distribution)
    return found is not None and CHECKED[distribution].contains(found)


# ------------------------------------------------------------------------------------------ gradio

# Gradio's queue keeps a record of its last events (10,000 by default) and, after every event, sums
# them all into a table for its monitoring page, which this app leaves off: work under the server's
# lock at every event. A short record, summed now and then, costs next to nothing. Gradio reads
# these variables, which it does not document, when its queue is made.
QUEUE_RECORDS = {"GRADIO_ANALYTICS_MAX_EVENTS": "1000", "GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000"}


def quiet_gradio_queue_records(environ: MutableMapping[str, str] | None = None) -> bool:
    """Shorten Gradio's queue records (see QUEUE_RECORDS) unless the environment already says
    otherwise; call before gradio is imported. Another Gradio may read other names, or none:
    there the variables are left unset (no public setting exists) and Gradio keeps its defaults,
    which cost time, not correctness. True when the variables were offered."""
    if not checked("gradio"):
        return False
    environ = os.environ if environ is None else environ
    for name, value in QUEUE_RECORDS.items():
        environ.setdefault(name, value)
    return True


_served_statics: set[Path] = set()  # the public road's folders already given to Gradio


def serve_static_first(folders: Sequence[str | Path]) -> None:
    """Serve the files under `folders` from where they are: Gradio otherwise hashes and copies every
    file of every answer into its cache, and the app's generated pictures and clips (whose names end
    in random bits) never change once written. Gradio compares each file with its static folders
    in turn, resolving both paths each time; ours hold nearly every file the app answers with, so
    on the checked Gradio they go first in its (private) list. Elsewhere the public
    `gr.set_static_paths` adds them at the end of it, once: the same files are served, with a
    little more work per file."""
    ours = [Path(folder).resolve() for folder in folders]
    static = None
    if checked("gradio"):
        from gradio.data_classes import _StaticFiles

        static = getattr(_StaticFiles, "all_paths", None)
    if isinstance(static, list):
        if static[: len(ours)] != ours:
            static[:] = ours + [p for p in static if p not in ours]
        return
    import gradio as gr

    new = [p for p in ours if p not in _served_statics]
    if new:
        gr.set_static_paths(new)
        _served_statics.update(new)


def attach_translations(blocks: Any, i18n: Any) -> bool:
    """Give `blocks` its translations (`gr.I18n`) before it is launched, so that its configuration
    carries the words from the start (a mounted app, or one read before `launch`). Gradio sets the
    (undocumented) attribute itself from `launch(i18n=...)` and `gr.mount_gradio_app(..., i18n=...)`,
    the public roads, which a caller must then take: elsewhere this does nothing and says False."""
    if not checked("gradio"):
        return False
    blocks.i18n_instance = i18n
    return True


def examples_without_header(samples: list[list[Any]], inputs: list[Any], label: Any) -> Any:
    """Example rows that fill `inputs` when clicked, shown without a header row: Gradio writes the
    inputs' labels there untranslated (an i18n label shows its key). Returns the rows' `gr.Dataset`.
    On the checked Gradio these are `gr.Examples` whose dataset's headers are emptied after the fact;
    elsewhere a `gr.Dataset` built with the public `headers=[]`, whose click fills the inputs."""
    import gradio as gr

    if checked("gradio"):
        examples = gr.Examples(samples, inputs, label=label)
        examples.dataset.headers = []
        return examples.dataset
    dataset = gr.Dataset(components=inputs, samples=samples, headers=[], label=label, type="values")

    def fill(sample: list[Any]) -> Any:
        return sample[0] if len(inputs) == 1 else list(sample)

    dataset.click(fill, dataset, inputs, queue=False, show_progress="hidden", api_visibility="undocumented")
    return dataset


# ------------------------------------------------------------------------------------------- torch

def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN runs bfloat16 natively on this CPU (AVX-512 with BW, VL and DQ on x86, BF16 on
    Arm), where bf16 autocast pays for training. The checked torch asks oneDNN itself, through a
    private operator; elsewhere the same test is made on the public `torch.cpu.get_capabilities()`,
    and without that, the answer is False (full precision: slower, never wrong)."""
    import torch

    if checked("torch"):
        probe = getattr(getattr(torch.ops, "mkldnn", None), "_is_mkldnn_bf16_supported", None)
        if probe is not None:
            return bool(probe())
    capabilities = getattr(torch.cpu, "get_capabilities", None)
    if not torch.backends.mkldnn.is_available() or capabilities is None:
        return False
    found = capabilities()
    return bool(all(found.get(f"avx512_{part}") for part in ("bw", "vl", "dq")) or found.get("bf16"))


# -------------------------------------------------------------------------------------- accelerate

# accelerate keeps one mixed precision per process (a shared `AcceleratorState`) and refuses an
# Accelerator that asks for another ("restart your runtime"). The app trains kinds one after another
# in one process, and they differ: GANs train in full precision, the rest in bf16 where the CPU runs it.

def accelerate_precision() -> str | None:
    """The mixed precision this process's accelerate state holds, or None before any Accelerator
    (and None off the checked versions: the caller then meets accelerate's own refusal)."""
    if not checked("accelerate"):
        return None
    from accelerate.state import AcceleratorState

    shared = getattr(AcceleratorState, "_shared_state", None)
    if not isinstance(shared, dict) or not shared:
        return None
    precision = shared.get("_mixed_precision")
    return str(getattr(precision, "value", precision)) if precision is not None else None


def forget_accelerate_precision() -> bool:
    """Clear accelerate's per-process state (the process group stays) so that the next Accelerator may
    choose its own precision; only when no run of this process is still using it. False where it
    could not be done."""
    if not checked("accelerate"):
        return False
    from accelerate.state import AcceleratorState

    reset = getattr(AcceleratorState, "_reset_state", None)
    if reset is None:
        return False
    reset(reset_partial_state=False)
    return True


# ------------------------------------------------------------------------------------ transformers

class _Rows:
    """The caller's three hooks (see `generate_rows`) and the state both roads share: which rows go
    on, and whether the whole batch has stopped."""

    def __init__(self, choose: Callable, emit: Callable, stop_rows: Callable, rows: int, pad: int, device: Any):
        import torch

        self.choose, self.emit, self.stop_rows, self.pad = choose, emit, stop_rows, pad
        self.going = torch.ones(rows, dtype=torch.bool, device=device)
        self.stopped = False

    def pick(self, input_ids, scores):
        """The step's token of every row; a row that has stopped gets `pad`, without asking the caller."""
        import torch

        if self.stopped:  # a step the library runs past the end (and undoes): no randomness spent on it
            return torch.full((len(input_ids),), self.pad, dtype=torch.long, device=input_ids.device)
        tokens = torch.as_tensor(self.choose(input_ids, scores), dtype=torch.long, device=input_ids.device)
        return torch.where(self.going, tokens, self.pad)

    def finished(self, input_ids):
        """After a step: hand its tokens to the caller, then ask which rows are done."""
        import torch

        if self.stopped:
            return torch.ones(len(input_ids), dtype=torch.bool, device=input_ids.device)
        self.emit(input_ids[:, -1].tolist())
        done = torch.as_tensor(self.stop_rows(input_ids), dtype=torch.bool, device=input_ids.device).reshape(-1)
        self.going &= ~done
        self.stopped = not bool(self.going.any())
        return done | ~self.going


@cache
def _generate_hooks() -> tuple[type, type]:
    """`_Rows` as the logits processor and stopping criterion `generate` takes (made on first use:
    importing this module must not import transformers)."""
    import torch
    from transformers import LogitsProcessor, StoppingCriteria

    class Force(LogitsProcessor):
        """Every score -inf but the chosen token's: greedy search then takes that token."""

        def __init__(self, rows: _Rows):
            self.rows = rows

        def __call__(self, input_ids, scores):
            tokens = self.rows.pick(input_ids, scores)
            forced = torch.full_like(scores, float("-inf"))
            forced[torch.arange(len(tokens), device=scores.device), tokens] = 0.0
            return forced

    class Stop(StoppingCriteria):
        def __init__(self, rows: _Rows):
            self.rows = rows

        def __call__(self, input_ids, scores, **kwargs):
            return self.rows.finished(input_ids)

    return Force, Stop


def generate_rows(model: Any, ids: Any, mask: Any, *, max_new_tokens: int, pad: int, choose: Callable,
                  emit: Callable, stop_rows: Callable) -> None:
    """Decode a batch of left-padded rows (`ids`, `mask`: (rows, length) tensors) with a causal LM,
    the caller deciding every token and when each row ends. At each step, in this order:
    `choose(input_ids, scores)` returns one token id per row from the step's float32 (rows, vocab)
    scores; `emit(tokens)` gets the step's tokens as a list of ints (a row that has ended gets `pad`);
    `stop_rows(input_ids)` returns a bool per row, True for a row that is done. Decoding ends when
    every row is done or after `max_new_tokens` steps.

    The checked transformers decode with `model.generate`: greedy search over scores the caller's
    choice forces, the stopping criteria once a step after the token is appended. The hooks give the
    steps their order themselves, rather than trusting the order of `generate`'s streamer and
    stopping criteria, which has changed between versions and is not documented; and once every row
    is done they ignore the step `generate` may run past the end on some devices (then undone).
    Elsewhere, and for a model without `generate` (this project's LSTM), the same steps run in a plain
    loop over the model's public forward pass and its cache (or state)."""
    import torch

    rows = _Rows(choose, emit, stop_rows, len(ids), pad, ids.device)
    if checked("transformers") and hasattr(model, "generate"):
        from transformers import LogitsProcessorList, StoppingCriteriaList

        force, stop = _generate_hooks()
        model.generate(ids, attention_mask=mask, max_new_tokens=max_new_tokens, min_new_tokens=0, do_sample=False,
                       temperature=None, top_k=None, top_p=None, pad_token_id=pad,
                       logits_processor=LogitsProcessorList([force(rows)]),
                       stopping_criteria=StoppingCriteriaList([stop(rows)]))
        return
    with torch.no_grad():
        _decode_by_hand(model, ids, mask, max_new_tokens, rows)


def _decode_by_hand(model: Any, ids: Any, mask: Any, max_new_tokens: int, rows: _Rows) -> None:
    import torch

    # Positions count only real tokens, as `generate` counts them for left-padded rows.
    positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
    takes_positions = "position_ids" in inspect.signature(model.forward).parameters
    input_ids, step, past = ids, ids, None
    for _ in range(max_new_tokens):
        inputs = {"input_ids": step, "attention_mask": mask, "past_key_values": past, "use_cache": True}
        if takes_positions:
            inputs["position_ids"] = positions[:, -step.shape[1]:]
        out = model(**inputs)
        past = out.past_key_values
        tokens = rows.pick(input_ids, out.logits[:, -1].float())
        input_ids = torch.cat([input_ids, tokens[:, None]], dim=-1)
        if rows.finished(input_ids).all():
            return
        step = tokens[:, None]
        mask = torch.cat([mask, mask.new_ones(len(mask), 1)], dim=-1)
        positions = torch.cat([positions, positions[:, -1:] + 1], dim=-1)
