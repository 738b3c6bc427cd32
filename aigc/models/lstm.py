"""A character-level LSTM language model (Hochreiter and Schmidhuber, 1997; Graves, 2013), with the
forward pass of a transformers causal LM: `input_ids`, `attention_mask`, `past_key_values` (here the
LSTM's (h, c) state), `labels` in; `logits`, `past_key_values`, `loss` out. The text pipeline decodes it
step by step with that state (aigc.compat.generate_rows), as it decodes a GPT with its key-value cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class LSTMOutput:
    logits: torch.Tensor
    past_key_values: tuple[torch.Tensor, torch.Tensor] | None  # the (h, c) state after the last token
    loss: torch.Tensor | None = None


class CharLSTM(nn.Module):
    def __init__(self, vocab_size: int, n_embd: int = 128, hidden: int = 512, layers: int = 2, dropout: float = 0.1,
                 block_size: int = 256):
        super().__init__()
        self.settings = {"vocab_size": vocab_size, "n_embd": n_embd, "hidden": hidden, "layers": layers,
                         "dropout": dropout, "block_size": block_size}
        # What the pipelines read of a causal LM's config: the context the prompt is cut to (an LSTM has
        # no limit of its own; the windows it learned from are this long) and the vocabulary.
        self.config = SimpleNamespace(n_positions=block_size, vocab_size=vocab_size)
        self.embed = nn.Embedding(vocab_size, n_embd)
        self.lstm = nn.LSTM(n_embd, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                past_key_values: tuple[torch.Tensor, torch.Tensor] | None = None, labels: torch.Tensor | None = None,
                use_cache: bool = True, **_) -> LSTMOutput:
        x = self.drop(self.embed(input_ids))
        mask = None if attention_mask is None else attention_mask[:, -input_ids.shape[1]:].bool()
        if past_key_values is None and mask is not None and not mask.all():
            out, state = self._left_padded(x, mask)
        else:
            out, state = self.lstm(x, past_key_values)
        logits = self.head(self.drop(out))
        loss = None
        if labels is not None:  # as transformers' causal LMs: labels are the inputs, shifted here
            loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), ignore_index=-100)
        return LSTMOutput(logits, state if use_cache else None, loss)

    def _left_padded(self, x: torch.Tensor, mask: torch.Tensor):
        """Rows padded on the left (a batch of prompts): each row runs from its first real token, so the
        padding leaves its state untouched; the outputs are put back where the tokens were."""
        lengths = mask.sum(1)
        width = x.shape[1]
        starts = width - lengths
        index = (torch.arange(width, device=x.device)[None] + starts[:, None]) % width  # real tokens first
        packed = nn.utils.rnn.pack_padded_sequence(x.gather(1, index[..., None].expand_as(x)), lengths.clamp(min=1).cpu(),
                                                   batch_first=True, enforce_sorted=False)
        out, state = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=width)
        back = (torch.arange(width, device=x.device)[None] - starts[:, None]) % width
        return out.gather(1, back[..., None].expand_as(out)), state
