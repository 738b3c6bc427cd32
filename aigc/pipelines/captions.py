"""Captions for this project's caption models (text2img, text2video), checked against the
words a model was trained on: a word it never saw would be silently dropped, so it is refused."""

from __future__ import annotations

import torch

from .. import limits
from ..errors import AigcError
from . import validate


def caption_ids(model, caption) -> torch.Tensor:
    """The caption as the model's word ids (1, caption_length); unknown words are refused with the
    words it knows. `model` is any loaded model with `.vocabulary`, `.config["caption_length"]`
    and `.info.name` (a ConditionalModel or a VideoModel)."""
    caption = validate.text("caption", caption, limits.current().caption_chars).strip()
    vocab = model.vocabulary
    if not caption:
        raise AigcError(f"Type a caption, for example 'a large red star in the top right' (words: {', '.join(vocab.words)}).")
    unknown = vocab.unknown(caption)
    if unknown:
        shown = ", ".join(f"'{w[:20]}'" for w in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise AigcError(f"'{model.info.name}' does not know {shown}; it knows: {', '.join(vocab.words)} "
                        f"(and {', '.join(sorted(vocab.filler))}).")
    ids = vocab.encode([caption], model.config["caption_length"])
    if not ids.any():
        raise AigcError(f"The caption names nothing '{model.info.name}' can draw; use words such as {', '.join(vocab.words[:6])}.")
    return ids
