"""A small BERT for filling in masked words, built from transformers' own classes, and the WordPiece
vocabulary it reads (Devlin et al., 2019; WordPiece: Schuster and Nakajima, 2012; Wu et al., 2016)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForMaskedLM, BertTokenizer


def wordpiece_tokenizer(text: str, vocab_size: int = 6000) -> BertTokenizer:
    """An uncased WordPiece vocabulary learned from `text`'s lines by `tokenizers`, as transformers'
    BertTokenizer: [CLS] and [SEP] around each text, [MASK] for a blank, as the Hub's BERTs."""
    from tokenizers import BertWordPieceTokenizer

    pieces = BertWordPieceTokenizer(lowercase=True)
    pieces.train_from_iterator(text.splitlines(), vocab_size=vocab_size, min_frequency=2, show_progress=False)
    return BertTokenizer(vocab=pieces.get_vocab(), do_lower_case=True)


def bert_from_scratch(tokenizer: BertTokenizer, n_layer: int = 4, n_embd: int = 256, n_head: int = 4,
                      max_len: int = 64, dropout: float = 0.1) -> BertForMaskedLM:
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=n_embd, num_hidden_layers=n_layer,
                        num_attention_heads=n_head, intermediate_size=4 * n_embd, max_position_embeddings=max_len,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
                        pad_token_id=tokenizer.pad_token_id, type_vocab_size=1)
    return BertForMaskedLM(config)


class BlanksLoss(torch.nn.Module):
    """A masked LM's training loss, with the vocabulary scored only at the masked positions:
    BertForMaskedLM scores every position, and on a CPU that projection costs as much as the encoder.
    The same loss as BertForMaskedLM(labels=...); wrapped whole so that accelerate's data-parallel
    wrapper sees one forward pass."""

    def __init__(self, mlm: BertForMaskedLM):
        super().__init__()
        self.mlm = mlm

    def forward(self, labels: torch.Tensor, **inputs) -> torch.Tensor:
        blanks = labels != -100
        hidden = self.mlm.bert(**inputs).last_hidden_state[blanks]
        return F.cross_entropy(self.mlm.cls(hidden).float(), labels[blanks])
