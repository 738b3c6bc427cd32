"""How well a masked language model fills in a word: blanks in held-out lines, scored at the level of
words, beside a unigram and a bigram baseline that choose among the same words.

A blank is one word of a held-out line (letters, with inner apostrophes), with the two lines before it
and the line after it as context. A model scores every candidate word (every word seen at least twice
in the training text) by the log-probability of its WordPiece tokens in that many [MASK]s, summed: one
forward pass per length, so words of one token and words of several compete on the same scale. The
unigram baseline always answers the most frequent words; the bigram baseline scores a word by
P(word | the word before) P(the word after | word), each interpolated with the unigram (lambda 0.9).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
MAX_PIECES = 4  # candidate words of more WordPiece tokens are left out
CONTEXT_LINES = 2


@dataclass(frozen=True)
class Blank:
    before: str  # the text before the word
    word: str  # lowercased
    after: str  # the text after it


def held_out_blanks(text: str, count: int, seed: int = 0) -> list[Blank]:
    """`count` blanks, one word each of `count` lines of `text` with at least three words."""
    lines = [line for line in text.splitlines() if line.strip()]
    usable = [i for i, line in enumerate(lines) if len(WORD.findall(line)) >= 3]
    rng = random.Random(seed)
    blanks = []
    for i in sorted(rng.sample(usable, min(count, len(usable)))):
        word = rng.choice(list(WORD.finditer(lines[i])))
        before = "\n".join(lines[max(0, i - CONTEXT_LINES):i] + [lines[i][:word.start()]])
        after = "\n".join([lines[i][word.end():]] + lines[i + 1:i + 2])
        blanks.append(Blank(before, word.group().lower(), after))
    return blanks


def words_of(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


class Baselines:
    """Unigram and bigram counts of the training text's words, over the words seen at least twice."""

    def __init__(self, text: str):
        from scipy.sparse import coo_matrix

        words = words_of(text)
        counts = Counter(words)
        self.vocab = sorted(w for w, c in counts.items() if c >= 2)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        ids = np.array([self.index.get(w, -1) for w in words])
        self.unigram = np.array([counts[w] for w in self.vocab], dtype=np.float64)
        self.unigram /= self.unigram.sum()
        pairs = (ids[:-1] >= 0) & (ids[1:] >= 0)
        n = len(self.vocab)
        self.bigram = coo_matrix((np.ones(pairs.sum()), (ids[:-1][pairs], ids[1:][pairs])), shape=(n, n)).tocsr()
        self.by_next = self.bigram.tocsc()  # columns: what came before each word
        self.following = np.asarray(self.bigram.sum(axis=1)).ravel()  # c(prev, anything)

    def answers(self, blanks: list[Blank]) -> list[int]:
        """Each blank's word as an index of `vocab`, or -1 for a word seen less than twice."""
        return [self.index.get(b.word, -1) for b in blanks]

    def _given(self, prev: str | None) -> np.ndarray:
        """P(w | prev) for every word w, interpolated with the unigram."""
        i = self.index.get(prev) if prev else None
        if i is None or self.following[i] == 0:
            return self.unigram
        row = np.asarray(self.bigram[i].todense()).ravel() / self.following[i]
        return 0.9 * row + 0.1 * self.unigram

    def bigram_scores(self, blank: Blank) -> np.ndarray:
        before, after = words_of(blank.before), words_of(blank.after)
        score = np.log(self._given(before[-1] if before else None))
        nxt = self.index.get(after[0]) if after else None
        if nxt is not None:  # P(next | w) for every w: column `nxt`, by each w's own total
            column = np.asarray(self.by_next[:, nxt].todense()).ravel() / np.maximum(self.following, 1)
            score += np.log(0.9 * column + 0.1 * self.unigram[nxt])
        return score


@torch.inference_mode()
def model_scores(model, tokenizer, blanks: list[Blank], vocab: list[str], batch: int = 128) -> torch.Tensor:
    """(blanks, words) log-probabilities of each word of `vocab` in each blank (-inf: a word of more than
    MAX_PIECES tokens)."""
    max_len = model.config.max_position_embeddings
    pieces = tokenizer(vocab, add_special_tokens=False)["input_ids"]
    by_length = {n: [i for i, p in enumerate(pieces) if len(p) == n] for n in range(1, MAX_PIECES + 1)}
    sequences, where = [], []  # one sequence per (blank, length): its ids, and the first mask's position
    for blank in blanks:
        left = tokenizer(blank.before, add_special_tokens=False)["input_ids"]
        right = tokenizer(blank.after, add_special_tokens=False)["input_ids"]
        for n in by_length:
            room = max_len - 2 - n
            keep_right = min(len(right), room // 3)
            keep_left = min(len(left), room - keep_right)
            keep_right = min(len(right), room - keep_left)
            ids = ([tokenizer.cls_token_id] + left[len(left) - keep_left:] + [tokenizer.mask_token_id] * n
                   + right[:keep_right] + [tokenizer.sep_token_id])
            sequences.append(ids)
            where.append(1 + keep_left)
    device = next(model.parameters()).device
    scores = torch.full((len(blanks), len(vocab)), float("-inf"))
    logps = []
    for start in range(0, len(sequences), batch):
        chunk = sequences[start:start + batch]
        width = max(map(len, chunk))
        ids = torch.full((len(chunk), width), tokenizer.pad_token_id)
        for row, seq in enumerate(chunk):
            ids[row, :len(seq)] = torch.tensor(seq)
        logits = model(input_ids=ids.to(device), attention_mask=(ids != tokenizer.pad_token_id).to(device)).logits
        for row in range(len(chunk)):
            k = start + row
            n = k % MAX_PIECES + 1
            logps.append(logits[row, where[k]:where[k] + n].float().log_softmax(-1).cpu())
    for b in range(len(blanks)):
        for n, members in by_length.items():
            if not members:
                continue
            lp = logps[b * MAX_PIECES + n - 1]  # (n, V)
            tokens = torch.tensor([pieces[i] for i in members])  # (words, n)
            scores[b, members] = lp.gather(1, tokens.T).sum(0)
    return scores


def scored(scores: np.ndarray | torch.Tensor, answers: list[int], prefix: str = "") -> dict[str, float]:
    """Top-1 and top-5 accuracy of (blanks, words) `scores` against each blank's word index (-1: a word
    no candidate spells, always a miss)."""
    top = torch.as_tensor(scores).topk(5, dim=-1).indices.tolist()
    return {f"{prefix}top{k}": sum(a >= 0 and a in row[:k] for a, row in zip(answers, top)) / len(answers)
            for k in (1, 5)}


def baseline_figures(base: Baselines, blanks: list[Blank]) -> dict[str, float]:
    """The unigram's and the bigram's top-1 and top-5 on `blanks`."""
    answers = base.answers(blanks)
    unigram = torch.from_numpy(base.unigram).expand(len(blanks), -1)
    bigram = np.stack([base.bigram_scores(b) for b in blanks])
    return {**scored(unigram, answers, "unigram_"), **scored(bigram, answers, "bigram_")}


def judge(model, tokenizer, train_text: str, held_out_text: str, count: int = 2000, seed: int = 0,
          baselines: Baselines | None = None) -> dict[str, float]:
    """Top-1 and top-5 word accuracy on `count` held-out blanks, the model's and the baselines'."""
    base = baselines or Baselines(train_text)
    blanks = held_out_blanks(held_out_text, count, seed)
    answers = base.answers(blanks)
    return {**scored(model_scores(model, tokenizer, blanks, base.vocab), answers), **baseline_figures(base, blanks),
            "blanks": float(len(blanks)), "blanks_in_vocabulary": sum(a >= 0 for a in answers) / len(answers)}
