"""Held-out loss and perplexity of a causal language model."""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F


@torch.no_grad()
def heldout_loss(model, tokens: torch.Tensor, block: int, batch: int = 16) -> float:
    """Mean cross-entropy (nats per token) over every token of `tokens`.

    The text is cut into consecutive windows of `block` tokens and each window is
    scored on its own, so every token is predicted once, from between 0 and
    block-1 tokens of context: a slightly pessimistic, fully deterministic figure.
    """
    device = next(model.parameters()).device
    n = (len(tokens) - 1) // block * block
    inputs = tokens[:n].view(-1, block)
    targets = tokens[1 : n + 1].view(-1, block)
    total = 0.0
    for i in range(0, len(inputs), batch):
        x = inputs[i : i + batch].to(device)
        # Windows may hold the end-of-text id, which is also the pad id: all of it is real text.
        logits = model(input_ids=x, attention_mask=torch.ones_like(x)).logits.float()
        total += F.cross_entropy(logits.flatten(0, 1), targets[i : i + batch].flatten().to(device), reduction="sum").item()
    return total / targets.numel()


def perplexity(loss: float) -> float:
    return math.exp(loss)


_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_SPEAKER = re.compile(r"^[A-Z][A-Z' ]*[A-Z]\.$", re.MULTILINE)  # "PROTEUS." on a line of its own


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def known_word_rate(text: str, vocabulary: set[str]) -> float:
    """Share of the words of `text` that occur in `vocabulary`: a character model that
    has not learned to spell scores far below real text."""
    found = words(text)
    return sum(w in vocabulary for w in found) / len(found) if found else 0.0


def has_speaker_line(text: str) -> bool:
    return _SPEAKER.search(text) is not None


def sample_quality(name: str, vocabulary: set[str], samples: int = 8, length: int = 400) -> dict[str, float]:
    """Known-word rate and speaker-line rate of seeded samples (temperature 0.8, top-k 50)."""
    from ..pipelines.text import generate_text

    texts = [generate_text("", model=name, max_new_tokens=length, temperature=0.8, top_k=50, top_p=1.0, seed=seed)
             for seed in range(samples)]
    return {
        "sample_known_words": known_word_rate("\n".join(texts), vocabulary),
        "sample_speaker_lines": sum(map(has_speaker_line, texts)) / samples,
    }


def evaluate_text_model(name: str, samples: int = 8) -> dict[str, float]:
    """Held-out loss and perplexity on the held-out split of the model's training corpus,
    and how real its samples look, beside the same measure on real held-out text."""
    from ..catalog import card_of
    from ..data.text import encode_corpus, load_corpus, split_corpus
    from ..errors import AigcError
    from ..registry import load

    lm = load(name, "text")
    dataset = card_of(lm.info).get("dataset")
    if not dataset:
        raise AigcError(f"'{name}' does not name its training dataset in its card, so it has no held-out split.")
    train, held_out = split_corpus(load_corpus(dataset))
    tokens = encode_corpus(held_out, lm.tokenizer)
    loss = heldout_loss(lm.model, tokens, lm.context_length)
    vocabulary = set(words(train))
    # The word and speaker figures read Latin words and capitals: a corpus without them (the Tang
    # poems) would score 0 for its samples and its real text alike, which says nothing.
    looks = {**sample_quality(name, vocabulary, samples=samples),
             "real_known_words": known_word_rate(held_out, vocabulary)} if vocabulary else {}
    return {
        "heldout_loss": loss,
        "heldout_perplexity": perplexity(loss),
        "heldout_tokens": float(len(tokens)),
        **looks,
        **streaming_speed(name),
    }


def streaming_speed(name: str, runs: int = 5, tokens: int = 200) -> dict[str, float]:
    """Median streamed tokens/s and time to first token at batch 1 (what a user of the Text tab waits)."""
    from ..registry import load

    return streaming_speed_of(load(name, "text"), runs, tokens)


def streaming_speed_of(lm, runs: int = 5, tokens: int = 200) -> dict[str, float]:
    """`streaming_speed` of a loaded model (a training run's, measured as it saves its best), streamed
    as `generate_text` streams it: the Text tab's defaults, one seed a run."""
    import statistics

    from ..pipelines.text import TextStream, prompt_ids

    budget = max(1, lm.context_length - min(tokens, lm.context_length // 2))
    ids, prompt, notices = prompt_ids(lm, "ROMEO.\n", budget)

    def streamed(seed: int, count: int) -> TextStream:
        stream = TextStream(lm, ids, prompt, notices, count, 0.8, 50, 0.95, seed)
        for _ in stream:
            pass
        return stream

    streamed(0, 20)  # warm up
    done = [streamed(seed, tokens) for seed in range(runs)]
    return {"tokens_per_s": statistics.median(s.tokens_per_s for s in done),
            "first_token_ms": 1000 * statistics.median(s.first_token_s for s in done)}
