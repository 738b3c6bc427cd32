"""Recurrent Hub language models (Mamba, RWKV) write through the same causal path as a GPT: tiny random
ones, built and saved here as a Hub model is, and loaded by their folder. With temperature 0 the app's
decoding loop must choose what transformers' own greedy `generate` chooses, state carried or not."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer, MambaConfig, MambaForCausalLM, RwkvConfig, RwkvForCausalLM

import aigc


def _tiny(kind: str, vocab: int):
    if kind == "mamba":
        return MambaForCausalLM(MambaConfig(vocab_size=vocab, hidden_size=32, state_size=4, num_hidden_layers=2,
                                            expand=2, conv_kernel=4))
    return RwkvForCausalLM(RwkvConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, attention_hidden_size=32,
                                      intermediate_size=64, context_length=64))


@pytest.mark.parametrize("kind", ["mamba", "rwkv"])
def test_a_recurrent_hub_model_writes_greedily_as_transformers_does(tiny_gpt2, tmp_path, kind):
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2)
    torch.manual_seed(0)
    model = _tiny(kind, len(tokenizer)).eval()
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)

    stream = aigc.generate_text("To be, or", model=str(tmp_path), max_new_tokens=10, temperature=0, stream=True)
    text = stream.text()
    # random byte-level tokens can end inside a character, which the stream holds back
    assert len(stream.tokens) == 10 and text and tokenizer.decode(stream.tokens).startswith(text)
    ids = tokenizer("To be, or", return_tensors="pt").input_ids
    expected = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=10, do_sample=False,
                              min_new_tokens=10, pad_token_id=tokenizer.eos_token_id)[0, ids.shape[1]:]
    assert stream.tokens == expected.tolist()
    assert aigc.generate_text("To be", model=str(tmp_path), max_new_tokens=10, seed=3) == \
        aigc.generate_text("To be", model=str(tmp_path), max_new_tokens=10, seed=3)
