"""Held-out loss and perplexity of a causal language model."""

from __future__ import annotations

import math

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
        logits = model(input_ids=inputs[i : i + batch].to(device)).logits.float()
        total += F.cross_entropy(logits.flatten(0, 1), targets[i : i + batch].flatten().to(device), reduction="sum").item()
    return total / targets.numel()


def perplexity(loss: float) -> float:
    return math.exp(loss)


def evaluate_text_model(name: str) -> dict[str, float]:
    """Held-out loss and perplexity of a text model on the held-out split of its training corpus."""
    from ..data.text import encode_corpus, load_corpus, split_corpus
    from ..errors import AigcError
    from ..registry import load

    lm = load(name, "text")
    dataset = lm.info.card.get("dataset")
    if not dataset:
        raise AigcError(f"'{name}' does not name its training dataset in its card, so it has no held-out split.")
    held_out = split_corpus(load_corpus(dataset))[1]
    tokens = encode_corpus(held_out, lm.tokenizer)
    loss = heldout_loss(lm.model, tokens, lm.context_length)
    return {"heldout_loss": loss, "heldout_perplexity": perplexity(loss), "heldout_tokens": float(len(tokens))}
