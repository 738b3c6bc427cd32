"""Text generation with transformers' `generate`, streamed token by token."""

from __future__ import annotations

import math
import queue
import threading
import time
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from .. import compat, limits, registry
from ..loaders import TextModel
from ..device import random_seed
from ..errors import AigcError, Notice
from ..progress import on_stop
from . import validate

# Typographic characters a plain-ASCII corpus spells differently.
ASCII_FORMS = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "--",
               "\u2026": "...", "\u00a0": " ", "\t": "    ", "\r\n": "\n", "\r": "\n"}
# ASCII punctuation typed into a prompt for a Chinese corpus, which prints the full-width forms.
# Not quotes: a straight quote does not say whether it opens or closes.
CJK_FORMS = {",": "，", ".": "。", "?": "？", "!": "！", ";": "；", ":": "：", "(": "（", ")": "）",
             "<": "《", ">": "》"}


# Requests for the same model are written together, one `generate` call for all of them
# (continuous batching at the grain of a round): a round writes at most ROUND_TOKENS tokens
# per request, and ends early, once it has written JOIN_AFTER, when a new request waits; so
# a new request joins within JOIN_AFTER tokens. Eight strangers then cost the server about
# what one does, instead of eight loops over the same model.
MAX_BATCH = 8
ROUND_TOKENS = 48
JOIN_AFTER = 8  # each early end costs the rows going on one pass over their context (about two tokens' time)


class Job:
    """One request's state between rounds: its context, what is left to write, its sampling."""

    def __init__(self, lm: TextModel, ids: list[int], max_new_tokens: int, temperature: float,
                 top_k: int, top_p: float, seed: int):
        self.context, self.remaining = list(ids), max_new_tokens
        self.settings = (temperature, top_k, top_p, seed)
        # A plain list: LogitsProcessorList reads each warper's signature at every call, which costs
        # more per token than the loop in `pick`.
        self.warpers: list = []
        if temperature > 0:
            self.warpers.append(TemperatureLogitsWarper(temperature))
            if top_k:
                self.warpers.append(TopKLogitsWarper(top_k))
            if top_p < 1:
                self.warpers.append(TopPLogitsWarper(top_p))
        self.greedy = temperature == 0
        # Each request draws from its own generator: torch's global one is shared by every
        # request in the batch and every thread, and the text must follow from the seed alone.
        self.generator = torch.Generator(device=lm.device).manual_seed(seed)
        self.out: queue.Queue = queue.Queue()  # lists of new token ids, then None
        self.stop = threading.Event()
        self.done = threading.Event()
        self.finish_reason: str | None = None
        self.error: BaseException | None = None

    def request_stop(self) -> None:
        self.stop.set()

    def pick(self, input_ids: torch.Tensor, scores: torch.Tensor) -> int:
        """The next token for this request from its (1, vocab) scores."""
        if self.greedy:
            return int(scores.argmax())
        for warp in self.warpers:
            scores = warp(input_ids, scores)
        return int(torch.multinomial(scores.float().softmax(-1), 1, generator=self.generator))

    def finish(self, reason: str | None = None, error: BaseException | None = None) -> None:
        self.finish_reason, self.error = reason, error
        self.out.put(None)
        self.done.set()


class _Round:
    """One decoding pass over several requests (`compat.generate_rows`). It picks each row's
    token with that request's own settings and generator (`choose`), hands each row's tokens to
    its request (`take`), and ends each row (`finished`) at the row's own length, at its end of
    text, or when its request is stopped."""

    def __init__(self, jobs: list[Job], chunks: list[int], eos: set[int], others_wait: Callable[[], bool] = lambda: False):
        self.jobs, self.chunks, self.eos, self.others_wait = jobs, chunks, eos, others_wait
        self.made = [[] for _ in jobs]
        self.writing = [True] * len(jobs)
        self.steps = 0

    def choose(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> list[int]:
        # A finished row's token is thrown away: drawing it would spend that request's randomness.
        return [job.pick(input_ids[i : i + 1], scores[i : i + 1]) if self.writing[i] else 0
                for i, job in enumerate(self.jobs)]

    def finished(self, input_ids: torch.LongTensor) -> list[bool]:
        if self.steps >= JOIN_AFTER and self.others_wait():  # the rows still writing go on in the next round
            return [True] * len(self.jobs)
        return [not w for w in self.writing]

    def take(self, tokens: list[int]) -> None:
        self.steps += 1
        for i, token in enumerate(tokens):
            if not self.writing[i]:
                continue
            job = self.jobs[i]
            self.made[i].append(token)
            job.out.put([token])
            if token in self.eos or len(self.made[i]) >= self.chunks[i] or job.stop.is_set():
                self.writing[i] = False


class Batcher:
    """Writes every waiting request of one model, up to MAX_BATCH at a time, in rounds.
    Its thread runs while there is work and ends when there is none."""

    def __init__(self, lm: TextModel):
        self.lm = lm
        self.waiting: list[Job] = []
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        configured = getattr(getattr(lm.model, "generation_config", None), "eos_token_id", None)
        self.eos = {*(configured if isinstance(configured, list) else [configured]), lm.tokenizer.eos_token_id} - {None}
        tok = lm.tokenizer
        self.pad = tok.pad_token_id if tok.pad_token_id is not None else min(self.eos, default=0)

    @property
    def idle(self) -> bool:
        return self.thread is None

    def submit(self, job: Job) -> None:
        with self.lock:
            self.waiting.append(job)
            if self.thread is None:
                # Not a daemon: the interpreter waits for the round to end (torch aborts when a
                # thread is still inside it at exit); the thread ends as soon as no one waits.
                self.thread = threading.Thread(target=self._run, name=f"text-{self.lm.info.name}")
                self.thread.start()

    def _run(self) -> None:
        while True:
            with self.lock:
                for job in [j for j in self.waiting if j.stop.is_set()]:
                    self.waiting.remove(job)
                    job.finish("stopped")
                jobs, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
                if not jobs:
                    self.thread = None
                    return
            going = self._round(jobs)
            with self.lock:
                self.waiting += going  # behind the requests that came meanwhile

    @torch.inference_mode()
    def _round(self, jobs: list[Job]) -> list[Job]:
        """Writes one round for `jobs`; returns those with more to write."""
        window = self.lm.context_length
        chunks = []
        for job in jobs:
            # A model with a short context keeps writing: once the context is full, each round
            # continues from its latest part, so the text can be longer than the context.
            room = window - len(job.context) if len(job.context) < window else window // 2
            chunk = min(job.remaining, ROUND_TOKENS, max(1, room))
            job.context = job.context[-(window - chunk):]
            chunks.append(chunk)
        longest = max(len(j.context) for j in jobs)
        # Left padding: every row's next token is at the same place.
        ids = torch.tensor([[self.pad] * (longest - len(j.context)) + j.context for j in jobs], device=self.lm.device)
        mask = torch.tensor([[0] * (longest - len(j.context)) + [1] * len(j.context) for j in jobs], device=self.lm.device)
        round_ = _Round(jobs, chunks, self.eos, others_wait=lambda: bool(self.waiting))
        try:
            compat.generate_rows(self.lm.model, ids, mask, max_new_tokens=max(chunks), pad=self.pad,
                                 choose=round_.choose, emit=round_.take, stop_rows=round_.finished)
        except BaseException as exc:  # surfaced to the readers of the streams
            for job in jobs:
                job.finish(error=exc)
            return []
        going = []
        for job, made in zip(jobs, round_.made):
            job.context += made
            job.remaining -= len(made)
            if made and made[-1] in self.eos:
                job.finish("eos")
            elif job.stop.is_set() or not made:
                job.finish("stopped" if job.remaining > 0 else "length")
            elif job.remaining <= 0:
                job.finish("length")
            else:
                going.append(job)
        return going


_batchers: dict[str, Batcher] = {}  # by model name, in the process that writes
_batchers_lock = threading.Lock()


def _batcher(lm: TextModel) -> Batcher:
    """The model's batcher; a model loaded again (a newer checkpoint) gets a new one."""
    name = lm.info.name
    with _batchers_lock:
        for key in [k for k, b in _batchers.items() if k != name and b.idle]:
            del _batchers[key]  # a batcher costs nothing to make again, and holds its model
        batcher = _batchers.get(name)
        if batcher is None or batcher.lm is not lm:
            batcher = _batchers[name] = Batcher(lm)
        return batcher


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
    for pair in (k for k in ASCII_FORMS if len(k) > 1):  # "\r\n" is one line end, not "\r" and "\n"
        if pair in text and not known(pair):
            text = text.replace(pair, ASCII_FORMS[pair])
    replaced, dropped, out = {}, [], []
    for ch in text:
        # A character the model knows stays as typed: a Chinese corpus has its own “quotes”.
        if known(ch):
            out.append(ch)
            continue
        spellings = (ASCII_FORMS.get(ch), CJK_FORMS.get(ch),
                     "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)))
        alt = next((a for a in spellings if a and known(a)), None)
        if alt:
            replaced[ch] = alt
            out.append(alt)
        else:
            dropped.append(ch)
    notices = []
    if replaced:
        pairs = ", ".join(f"{a}→{b}" for a, b in list(replaced.items())[:8])
        notices.append(f"Replaced characters the model does not know: {pairs}.")
    if dropped:
        shown = " ".join(dict.fromkeys(d if d.isprintable() and not d.isspace() else repr(d) for d in dropped))
        notices.append(f"Dropped {len(dropped)} character(s) the model does not know: {shown[:80]}.")
    return "".join(out), notices


def prompt_ids(lm: TextModel, prompt: str, budget: int) -> tuple[list[int], str, list[str]]:
    """The prompt as the model's token ids (its last `budget` when longer), the prompt as the model sees it,
    and notices for the page; `aigc.evaluation` times streams started from it as `generate_text` starts them."""
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

    def __init__(self, lm: TextModel, prompt_ids: list[int], prompt: str, notices: list[str],
                 max_new_tokens: int, temperature: float, top_k: int, top_p: float, seed: int):
        self.lm, self.prompt, self.notices, self.seed = lm, prompt, notices, seed
        self.started = time.perf_counter()
        self.finished: float | None = None
        self.first_token_s: float | None = None
        self.tokens: list[int] = []
        self._job = Job(lm, prompt_ids, max_new_tokens, temperature, top_k, top_p, seed)
        _batcher(lm).submit(self._job)

    @property
    def finish_reason(self) -> str | None:
        """"length", "eos" or "stopped" once done."""
        return self._job.finish_reason

    def __iter__(self) -> Iterator[str]:
        tok, eos_ids = self.lm.tokenizer, set(self.lm.tokenizer.all_special_ids)
        shown = ""
        try:
            done = False
            while not done:
                batch = [self._job.out.get()]
                while batch[-1] is not None:  # and every token that came meanwhile: one decode for them all
                    try:
                        batch.append(self._job.out.get_nowait())
                    except queue.Empty:
                        break
                done = batch[-1] is None
                new = [i for ids in batch if ids for i in ids if i not in eos_ids]
                if not new:
                    continue
                self.tokens += new
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
            self._job.done.wait(timeout=10)  # a model still writing at interpreter exit aborts torch
            self.finished = time.perf_counter()
        if self._job.error is not None:
            raise AigcError(f"Generation failed: {str(self._job.error).splitlines()[0][:200]}") from self._job.error

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
        self._job.request_stop()

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
    cap = limits.current()
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
    ids, used_prompt, notices = prompt_ids(lm, prompt, budget)
    result = TextStream(lm, ids, used_prompt, notices, max_new_tokens, temperature, top_k, top_p, seed)
    if stream:
        return result
    text = result.text()
    for notice in notices:
        warnings.warn(notice, Notice, stacklevel=2)
    return text


@dataclass(frozen=True)
class Prompt:
    """The first event of `write`: the prompt as the page shows it ("" after a chat template, whose
    markup is the model's, not the user's), and sentences about what was adjusted."""

    shown: str
    notices: tuple[str, ...]


@dataclass(frozen=True)
class Finish:
    """The last event of `write`: why it ended ("length", "eos" or "stopped"), how much, how fast."""

    reason: str | None
    seed: int
    tokens: int
    tokens_per_s: float


def write(prompt: str = "", model: str = "shakespeare-gpt", max_new_tokens: int = 200, temperature: float = 0.8,
          top_k: int = 50, top_p: float = 0.95, seed: int | None = None, every: float = 0.0) -> Iterator[Prompt | str | Finish]:
    """`generate_text` for a server that only relays: plain events that pickle. First a `Prompt`, then
    the text in chunks (str), at most one per `every` seconds after the first, then a `Finish`.
    Run where the model is (the engine's "write" role); a reader that stops the stream ends the
    writing at once (aigc.progress.on_stop) and still gets the `Finish`."""
    stream = generate_text(prompt, model=model, max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k,
                           top_p=top_p, seed=seed, stream=True)
    on_stop(stream.close)
    try:
        yield Prompt("" if getattr(stream.lm.tokenizer, "chat_template", None) else stream.prompt, tuple(stream.notices))
        yield from stream.every(every)
    finally:
        stream.close()
    yield Finish(stream.finish_reason, stream.seed, len(stream.tokens), stream.tokens_per_s)
