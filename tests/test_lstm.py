"""The character-level LSTM: a causal LM's forward pass (padding, state carried as the cache), its
training step, and generation through the same decoding as the GPT's."""

from __future__ import annotations

import pytest
import torch

from aigc import compat
from aigc.models.lstm import CharLSTM


@pytest.fixture(scope="module")
def lstm():
    torch.manual_seed(0)
    return CharLSTM(40, n_embd=16, hidden=32, layers=2, dropout=0.0).eval()


def test_a_left_padded_row_reads_as_the_same_row_alone(lstm):
    long, short = torch.randint(1, 40, (1, 9)), torch.randint(1, 40, (1, 4))
    ids = torch.zeros(2, 9, dtype=torch.long)
    mask = torch.zeros(2, 9, dtype=torch.long)
    ids[0], mask[0] = long, 1
    ids[1, 5:], mask[1, 5:] = short, 1
    out = lstm(ids, attention_mask=mask)
    assert torch.allclose(out.logits[0], lstm(long).logits[0], atol=1e-5)
    assert torch.allclose(out.logits[1, 5:], lstm(short).logits[0], atol=1e-5)
    h, c = out.past_key_values
    assert torch.allclose(h[:, 1], lstm(short).past_key_values[0][:, 0], atol=1e-5)


def test_the_state_carries_the_text_as_a_cache_does(lstm):
    text = torch.randint(1, 40, (1, 10))
    first = lstm(text[:, :6])
    rest = lstm(text[:, 6:], past_key_values=first.past_key_values)
    assert torch.allclose(rest.logits, lstm(text).logits[:, 6:], atol=1e-5)


def test_rows_decoded_together_write_what_each_writes_alone(lstm):
    """The text pipeline decodes several requests in one batch (compat.generate_rows, the plain loop for
    a model without `generate`); greedy choices must not depend on the other rows."""
    def decode(ids, mask):
        written = [[] for _ in ids]

        def emit(tokens):
            for row, token in enumerate(tokens):
                written[row].append(token)

        compat.generate_rows(lstm, ids, mask, max_new_tokens=8, pad=0,
                             choose=lambda _, scores: scores.argmax(-1).tolist(), emit=emit,
                             stop_rows=lambda input_ids: [False] * len(input_ids))
        return written

    a, b = torch.randint(1, 40, (1, 6)), torch.randint(1, 40, (1, 3))
    ids = torch.zeros(2, 6, dtype=torch.long)
    mask = torch.zeros(2, 6, dtype=torch.long)
    ids[0], mask[0] = a, 1
    ids[1, 3:], mask[1, 3:] = b, 1
    together = decode(ids, mask)
    assert together[0] == decode(a, torch.ones_like(a))[0]
    assert together[1] == decode(b, torch.ones_like(b))[0]


def test_the_lstms_training_step_lowers_its_loss():
    from aigc.training import make_config
    from aigc.training.lstm import LSTMTask
    from aigc.training.trainer import make_accelerator

    config = make_config("lstm", "shakespeare", n_embd=16, hidden=64, layers=1, block_size=32, batch_size=8,
                         lr=1e-2, warmup=0, precision="no", device="cpu")
    task = LSTMTask(config, make_accelerator(config), None)
    losses = []
    for _ in range(2):  # the same step twice: the same batch
        for step in range(40):
            if _ == 0 or step == 0:
                losses.append(task.train_step(0)["loss"])
    assert losses[-1] < 0.8 * losses[0], losses[::10]


def test_a_trained_lstm_is_saved_loaded_and_writes_text_as_the_gpt_does(tmp_path):
    import aigc
    from aigc.pipelines.text import generate_text

    run = aigc.train("lstm", "shakespeare", out=tmp_path / "lstm-run", steps=20, n_embd=16, hidden=32, layers=1,
                     block_size=32, batch_size=8, lr=1e-2, warmup=0, eval_every=10, sample_every=20)
    assert run.wait().type == "end"
    best = str(tmp_path / "lstm-run" / "best")
    first = generate_text("ROMEO.\n", model=best, max_new_tokens=30, seed=3)
    assert first == generate_text("ROMEO.\n", model=best, max_new_tokens=30, seed=3)
    assert 0 < len(first) <= 30  # the continuation, a character a token
    assert first != generate_text("ROMEO.\n", model=best, max_new_tokens=30, seed=4)
