"""Editing text with a masked language model: fill in blanks, or rewrite a passage word by word.

Both run transformers' fill-mask pipeline (aigc.loaders.FillModel), so this project's BERT and any Hub
masked model work alike. A blank is the model's mask token; "[MASK]" typed by a user is read as it,
whatever the model's own spelling. A blank takes one token, so candidates are the tokens that are
words on their own (WordPiece continuations such as "##ing" are left out).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import torch

from ..errors import AigcError
from ..registry import load

DEFAULT_MODEL = "shakespeare-bert"
TYPED_MASK = "[MASK]"
MAX_CHARS = 2000
MAX_BLANKS = 20
MAX_REWRITTEN = 200  # words a rewrite visits
TOP_K = 5
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")  # letters of any script, with inner apostrophes
_SHORTLIST = 50  # tokens the pipeline returns per blank, before continuations are left out


@dataclass
class Blank:
    """One blank of a passage: where it is (characters of the passage as given) and its candidates."""

    start: int
    end: int
    candidates: list[tuple[str, float]]  # (word, probability), most likely first


@dataclass
class Rewrite:
    original: str
    text: str
    changed: list[tuple[str, str]]  # (word before, word after), in order
    notes: list[str] = field(default_factory=list)

    def diff(self) -> list[tuple[str, str | None]]:
        """The rewrite against the original as (text, tag) pieces: tag "-" removed, "+" added, None kept
        (what gradio's HighlightedText shows)."""
        before, after = re.findall(r"\s+|\S+", self.original), re.findall(r"\s+|\S+", self.text)
        pieces: list[tuple[str, str | None]] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
            if op == "equal":
                pieces.append(("".join(before[i1:i2]), None))
                continue
            if i2 > i1:
                pieces.append(("".join(before[i1:i2]), "-"))
            if j2 > j1:
                pieces.append(("".join(after[j1:j2]), "+"))
        return pieces


def kept_words(keep: str | None) -> set[str]:
    """The words of `keep` as a user types them ("sweet, prince": separated by spaces, commas or any other
    non-letter), casefolded."""
    return {w.casefold() for w in WORD.findall(keep or "")}


def locked_indices(text: str, keep: str | None) -> set[int]:
    """Indices, among the words of `text` as `rewrite` counts them, of every occurrence of a kept word,
    whatever its case."""
    kept = kept_words(keep)
    return {i for i, word in enumerate(WORD.finditer(text)) if word.group().casefold() in kept}


def _checked(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise AigcError("Write a passage first, with [MASK] where a word should be filled in.")
    if len(text) > MAX_CHARS:
        raise AigcError(f"The passage is {len(text):,} characters; the editor takes at most {MAX_CHARS:,}.")
    return text


def _unknown(tokenizer, text: str) -> list[str]:
    """A sentence naming characters the model's vocabulary does not know, if there are any."""
    unknown = sorted({ch for ch in set(text) if not ch.isspace()
                      and tokenizer.convert_tokens_to_ids(tokenizer.tokenize(ch) or [None])[0] == tokenizer.unk_token_id})
    if not unknown:
        return []
    shown = " ".join(unknown[:12]) + (" ..." if len(unknown) > 12 else "")
    return [f"This model does not know {len(unknown)} of the characters ({shown}); it reads them as unknown."]


def _word_choices(predictions: list[dict], k: int, keep: str | None = None) -> list[tuple[str, float]]:
    """The pipeline's predictions for one blank as (word, probability), whole words only."""
    found = []
    for p in predictions:
        word = p["token_str"].strip()
        if word and not word.startswith("##") and word not in {w for w, _ in found}:
            found.append((word, float(p["score"])))
        if len(found) == k:
            break
    return found


def fill_mask(text: str, model: str = DEFAULT_MODEL, top_k: int = TOP_K) -> tuple[list[Blank], list[str]]:
    """The candidates for each [MASK] of `text`, and notes on what the model could not read."""
    text = _checked(text)
    if not 1 <= int(top_k) <= 20:
        raise AigcError("Candidates per blank: choose between 1 and 20.")
    fm = load(model, "fill")
    spans = [m.span() for m in re.finditer(re.escape(TYPED_MASK) + "|" + re.escape(fm.mask), text)]
    if not spans:
        raise AigcError("Mark a word to fill in: type [MASK] in its place (or select words to rewrite).")
    if len(spans) > MAX_BLANKS:
        raise AigcError(f"At most {MAX_BLANKS} blanks at once; this passage has {len(spans)}.")
    masked = text.replace(TYPED_MASK, fm.mask)
    found = fm.pipe(masked, top_k=_SHORTLIST)
    per_blank = [found] if len(spans) == 1 else found
    blanks = [Blank(start, end, _word_choices(predictions, int(top_k)))
              for (start, end), predictions in zip(spans, per_blank)]
    return blanks, _unknown(fm.tokenizer, text.replace(TYPED_MASK, " ").replace(fm.mask, " "))


def _cased_like(word: str, model_word: str) -> str:
    if word.isupper() and len(word) > 1:
        return model_word.upper()
    if word[:1].isupper():
        return model_word[:1].upper() + model_word[1:]
    return model_word


def rewrite(text: str, model: str = DEFAULT_MODEL, temperature: float = 1.0, locked: set[int] | None = None,
            seed: int = 0, keep: str | None = None) -> Rewrite:
    """`text` rewritten word by word, left to right: each word not `locked` (by its index among the
    passage's words) and not among the words of `keep` is masked and drawn again from the model, given the
    passage as rewritten so far. `temperature` 0 keeps each word's most likely replacement."""
    text = _checked(text)
    if not 0 <= float(temperature) <= 2:
        raise AigcError("Temperature: choose between 0 and 2.")
    words = list(WORD.finditer(text))
    if not words:
        raise AigcError("There is no word to rewrite in this passage.")
    fm = load(model, "fill")
    if TYPED_MASK in text or fm.mask in text:
        raise AigcError("Fill the blanks first (or take out [MASK]): a rewrite changes the words that are there.")
    locked = set(locked or ()) | locked_indices(text, keep)
    gen = torch.Generator().manual_seed(int(seed))
    current, shift, changed = text, 0, []
    visited = [i for i in range(len(words)) if i not in locked][:MAX_REWRITTEN]
    for i in visited:
        start, end = words[i].start() + shift, words[i].end() + shift
        old = current[start:end]
        choices = _word_choices(fm.pipe(current[:start] + fm.mask + current[end:], top_k=_SHORTLIST), _SHORTLIST)
        if not choices:
            continue
        if temperature == 0:
            new = choices[0][0]
        else:
            weights = torch.tensor([p for _, p in choices], dtype=torch.float64).clamp_min(1e-12) ** (1 / temperature)
            new = choices[int(torch.multinomial(weights, 1, generator=gen))][0]
        new = _cased_like(old, new)
        if new != old:
            changed.append((old, new))
        current = current[:start] + new + current[end:]
        shift += len(new) - len(old)
    notes = _unknown(fm.tokenizer, text)
    if len(words) - len(locked) > MAX_REWRITTEN:
        notes.append(f"Only the first {MAX_REWRITTEN} words that are not locked were rewritten.")
    return Rewrite(text, current, changed, notes)


def blank_words(text: str, start: int, end: int) -> str:
    """`text` with each word that the characters `start:end` touch replaced by [MASK] (a selection in
    the editor, which may begin or end inside a word)."""
    hit = [w for w in WORD.finditer(text) if w.start() < end and w.end() > start]
    if not hit:
        raise AigcError("Select one or more words of the passage first, then blank them.")
    for w in reversed(hit):
        text = text[:w.start()] + TYPED_MASK + text[w.end():]
    return text


def put_words(text: str, spans: list[tuple[int, int]], words: list[str | None]) -> str:
    """`text` with the blank at each span replaced by its chosen word; a blank with no choice stays."""
    for (start, end), word in sorted(zip(spans, words), reverse=True):
        if word:
            text = text[:start] + word + text[end:]
    return text
