"""A small GPT-2 for character-level text, built from transformers' own classes."""

from __future__ import annotations

from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast


def gpt2_from_scratch(
    tokenizer: PreTrainedTokenizerFast,
    n_layer: int = 6,
    n_embd: int = 192,
    n_head: int = 6,
    block_size: int = 256,
    dropout: float = 0.0,
) -> GPT2LMHeadModel:
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=block_size,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    return GPT2LMHeadModel(config)
