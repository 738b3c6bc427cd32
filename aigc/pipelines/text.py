"""Text generation with transformers' `generate`, streamed token by token."""

from __future__ import annotations

import math
import queue
import threading
import time
import unicodedata
import warnings
from typing import Iterator

import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)
from transformers.generation.streamers import BaseStreamer

from .. import limits, registry
from ..device import random_seed
from ..errors import AigcError, Notice
from . import validate

# Typographic characters a plain-ASCII corpus spells differently.
ASCII_FORMS = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "--",
               "\u2026": "...", "\u00a0": " ", "\t": "    ", "\r\n": "\n", "\r": "\n"}


class SeededSampler(LogitsProcessor):
    """Draws the next token with a private generator and leaves only that token possible.

    `generate(do_sample=True)` draws from torch's global generator, which every thread
    shares, so concurrent requests would change each other's samples. Sampling here and
    decoding greedily keeps each request reproducible from its own seed.
    """

    def __init__(self, seed: int, device: torch.device):
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        choice = torch.multinomial(scores.float().softmax(-1), 1, generator=self.generator)
        forced = torch.full_like(scores, float("-inf"))
        return forced.scatter_(1, choice, 0.0)


class _StopFlag(StoppingCriteria):
    def __init__(self, flag: threading.Event):
        self.flag = flag

    def __call__(self, input_ids, scores, **kwargs) -> torch.BoolTensor:
        return torch.full((input_ids.shape[0],), self.flag.is_set(), dtype=torch.bool, device=input_ids.device)


class _TokenQueue(BaseStreamer):
    """transformers' streamer interface: `generate` hands it each new token as it is chosen.

    Not `TextIteratorStreamer`: that one releases text only at word boundaries and ends
    its iterator when a `generate` call ends, while this app streams every token and
    chains several `generate` calls (the sliding window) into one stream.
    """

    def __init__(self, out: queue.Queue):
        self.out = out
        self.prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:  # the first call carries the prompt
            self.prompt_seen = True
            return
        self.out.put(value.reshape(-1).tolist())

    def end(self) -> None:
        self.prompt_seen = False  # the next generate() call (next window) starts with its prompt


def fit_vocabulary(tokenizer, text: str) -> tuple[str, list[str]]:
    """Spell `text` with characters the tokenizer knows, saying what changed.

    Only tokenizers with an unknown token lose characters; byte-level ones (GPT-2's)
    can spell anything and pass text through untouched.
    """
    unk = tokenizer.unk_token_id
    if unk is None or not text:
        return text, []

    def known(s: str) -> bool:
        return unk not in tokenizer(s, add_special_tokens=False)["input_ids"]

    if known(text):
        return text, []
    replaced, dropped, out = {}, [], []
    for ch in text:
        if ch in ASCII_FORMS or not known(ch):
            alt = ASCII_FORMS.get(ch) or "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            if alt and known(alt):
                replaced[ch] = alt
                out.append(alt)
            else:
                dropped.append(ch)
            continue
        out.append(ch)
    notices = []
    if replaced:
        pairs = ", ".join(f"{a}→{b}" for a, b in list(replaced.items())[:8])
        notices.append(f"Replaced characters the model does not know: {pairs}.")
    if dropped:
        shown = " ".join(dict.fromkeys(d if d.isprintable() and not d.isspace() else repr(d) for d in dropped))
        notices.append(f"Dropped {len(dropped)} character(s) the model does not know: {shown[:80]}.")
    return "".join(out), notices


def _prompt_ids(lm: registry.TextModel, prompt: str, budget: int) -> tuple[list[int], str, list[str]]:
    tok = lm.tokenizer
    text, notices = fit_vocabulary(tok, prompt)
    if text and getattr(tok, "chat_template", None):
        ids = tok.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        text = tok.decode(ids)
        notices.append("Using the model's chat template.")
    elif text:
        ids = tok(text, add_special_tokens=False)["input_ids"]
    else:
        start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        if start is None:
            raise AigcError(f"'{lm.info.name}' needs a prompt to start from.")
        ids = [start]
    if len(ids) > budget:
        notices.append(f"The prompt is {len(ids):,} tokens long; the model sees {lm.context_length:,} at a time, so it keeps the last {budget:,}.")
        ids = ids[-budget:]
        text = tok.decode(ids, skip_special_tokens=True)
    return list(ids), text, notices


class TextStream:
    """Generated text, chunk by chunk, as it is produced. `close()` stops generation at once.

    Attributes: `prompt` (what the model was given, after any adjustment), `notices`
    (sentences about those adjustments), `seed`, and after the end `tokens`,
    `finish_reason` and `first_token_s` (seconds from the request to the first chunk).
    """

    def __init__(self, lm: registry.TextModel, prompt_ids: list[int], prompt: str, notices: list[str],
                 max_new_tokens: int, temperature: float, top_k: int, top_p: float, seed: int):
        self.lm, self.prompt, self.notices, self.seed = lm, prompt, notices, seed
        self.started = time.perf_counter()
        self.finished: float | None = None
        self.first_token_s: float | None = None
        self.tokens: list[int] = []
        self.finish_reason: str | None = None  # "length", "eos" or "stopped" once done
        self._stop = threading.Event()
        self._queue: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        processors = LogitsProcessorList()
        if temperature > 0:
            processors.append(TemperatureLogitsWarper(temperature))
            if top_k:
                processors.append(TopKLogitsWarper(top_k))
            if top_p < 1:
                processors.append(TopPLogitsWarper(top_p))
            processors.append(SeededSampler(seed, lm.device))
        self._thread = threading.Thread(target=self._generate, args=(prompt_ids, max_new_tokens, processors), daemon=True)
        self._thread.start()

    @torch.inference_mode()
    def _generate(self, ids: list[int], max_new_tokens: int, processors: LogitsProcessorList) -> None:
        lm, tok = self.lm, self.lm.tokenizer
        configured = lm.model.generation_config.eos_token_id
        eos = {*(configured if isinstance(configured, list) else [configured]), tok.eos_token_id} - {None}
        pad = tok.pad_token_id if tok.pad_token_id is not None else min(eos, default=0)
        window = lm.context_length
        streamer = _TokenQueue(self._queue)
        try:
            remaining, context = max_new_tokens, list(ids)
            # A model with a short context keeps writing: each round continues from the
            # latest half window, so the text can be longer than the context.
            while remaining > 0 and not self._stop.is_set():
                chunk = min(remaining, max(1, window - len(context)) if len(context) < window else window // 2)
                context = context[-(window - chunk):]
                inputs = torch.tensor([context], device=lm.device)
                out = lm.model.generate(
                    inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=chunk, min_new_tokens=0,
                    do_sample=False, temperature=None, top_k=None, top_p=None, logits_processor=processors,
                    stopping_criteria=StoppingCriteriaList([_StopFlag(self._stop)]), streamer=streamer,
                    pad_token_id=pad,
                )
                new = out[0, len(context):].tolist()
                remaining -= len(new)
                context += new
                if not new or new[-1] in eos:
                    self.finish_reason = "eos"
                    break
            if self.finish_reason is None:
                self.finish_reason = "stopped" if self._stop.is_set() and remaining > 0 else "length"
        except BaseException as exc:  # surfaced to the reader of the stream
            self._error = exc
        finally:
            self._queue.put(None)

    def __iter__(self) -> Iterator[str]:
        tok, eos_ids = self.lm.tokenizer, set(self.lm.tokenizer.all_special_ids)
        shown = ""
        try:
            while (ids := self._queue.get()) is not None:
                self.tokens += [i for i in ids if i not in eos_ids]
                text = tok.decode(self.tokens, skip_special_tokens=True)
                # A byte-level token can end inside a multi-byte character: wait for the rest.
                if text.endswith("\ufffd") or len(text) <= len(shown):
                    continue
                if self.first_token_s is None:
                    self.first_token_s = time.perf_counter() - self.started
                chunk, shown = text[len(shown):], text
                yield chunk
        finally:
            self.close()
            self._thread.join(timeout=10)  # a daemon thread alive at interpreter exit aborts torch
            self.finished = time.perf_counter()
        if self._error is not None:
            raise AigcError(f"Generation failed: {str(self._error).splitlines()[0][:200]}") from self._error

    def every(self, seconds: float) -> Iterator[str]:
        """The same text in fewer, larger chunks: the first at once, then at most one per `seconds`.
        A page redrawn 20 times a second looks as live as one redrawn at every token, and costs a
        server with many readers a fraction of the work."""
        pending, last = "", -math.inf
        for chunk in self:
            pending += chunk
            now = time.perf_counter()
            if now - last >= seconds:
                yield pending
                pending, last = "", now
        if pending:
            yield pending

    def close(self) -> None:
        self._stop.set()

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second of wall time, from the request to the end (or now)."""
        return len(self.tokens) / max(1e-9, (self.finished or time.perf_counter()) - self.started)

    def text(self) -> str:
        return "".join(self)


def generate_text(prompt: str = "", model: str = "shakespeare-gpt", max_new_tokens: int = 200,
                  temperature: float = 0.8, top_k: int = 50, top_p: float = 0.95, seed: int | None = None,
                  stream: bool = False) -> str | TextStream:
    """Continue `prompt` (empty: start from nothing) with a built-in model or a Hub id.

    Returns the generated text, or with `stream=True` a `TextStream` that yields it in
    chunks as it is generated. Adjustments to the prompt are reported as `Notice`
    warnings (and on the stream's `.notices`). Bad input raises `AigcError`.
    """
    cap = limits.current
    prompt = validate.text("prompt", prompt, cap.prompt_chars)
    max_new_tokens = validate.number("max_new_tokens", max_new_tokens, 1, cap.max_new_tokens, integer=True)
    temperature = validate.number("temperature", temperature, 0, 2)
    top_k = validate.number("top_k", top_k, 0, 1000, integer=True)
    top_p = validate.number("top_p", top_p, 0.01, 1)
    seed = validate.seed(seed)
    if seed is None:
        seed = random_seed()
    lm = registry.load(model, "text")
    budget = max(1, lm.context_length - min(max_new_tokens, lm.context_length // 2))
    ids, used_prompt, notices = _prompt_ids(lm, prompt, budget)
    result = TextStream(lm, ids, used_prompt, notices, max_new_tokens, temperature, top_k, top_p, seed)
    if stream:
        return result
    text = result.text()
    for notice in notices:
        warnings.warn(notice, Notice, stacklevel=2)
    return text
