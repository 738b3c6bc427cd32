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
        # No pad id, as in GPT-2: the tokenizer pads with end-of-text, which also starts
        # every sample, and a model that knows a pad id warns about it at every start.
        pad_token_id=None,
        tie_word_embeddings=True,
        # GPT-2's tanh approximation as one fused kernel: the same function as "gelu_new"
        # (written out in Python ops), about 5% faster per token at batch 1 on a CPU.
        activation_function="gelu_pytorch_tanh",
    )
    return GPT2LMHeadModel(config)
