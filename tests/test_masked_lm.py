"""The BERT-style masked language model: its passages, its training step, and the judge that scores
filled-in words against unigram and bigram baselines."""

from __future__ import annotations

import pytest
import torch

from aigc.data.text import line_blocks
from aigc.evaluation.masked_words import Baselines, held_out_blanks, judge, model_scores
from aigc.models.bert import bert_from_scratch, wordpiece_tokenizer

# A text whose words follow each other by rule: after "red" always "fox", after "blue" always "whale".
TOY = "\n".join(["the red fox runs far", "a blue whale swims deep", "the red fox sleeps now",
                 "a blue whale sings low"] * 30)


@pytest.fixture(scope="module")
def toy():
    tokenizer = wordpiece_tokenizer(TOY, vocab_size=120)
    torch.manual_seed(0)
    return tokenizer, bert_from_scratch(tokenizer, n_layer=1, n_embd=32, n_head=2, max_len=32).eval()


def test_passages_are_whole_lines_that_fit_the_model(toy):
    tokenizer, _ = toy
    blocks = line_blocks(TOY, tokenizer, max_len=16)
    assert all(len(tokenizer(b)["input_ids"]) <= 16 for b in blocks)
    assert "\n".join(blocks) == TOY  # nothing lost, nothing cut inside a line


def test_blanks_are_words_of_the_text_with_their_context():
    for blank in held_out_blanks(TOY, 20, seed=3):
        assert blank.word.isalpha() and blank.word in TOY.split()
        line = (blank.before.rsplit("\n", 1)[-1] + blank.word + blank.after.split("\n", 1)[0])
        assert line in TOY.splitlines()


def test_the_bigram_baseline_knows_what_follows_and_the_unigram_only_what_is_common():
    base = Baselines(TOY)
    assert base.vocab[int(base.unigram.argmax())] in {"the", "a", "red", "fox", "blue", "whale"}
    blanks = [b for b in held_out_blanks(TOY, 60, seed=1) if b.word in {"fox", "whale"}]
    assert blanks
    for blank in blanks:
        assert base.vocab[int(base.bigram_scores(blank).argmax())] == blank.word


def test_the_judge_scores_a_model_that_knows_the_word_as_right(toy):
    """Scores are the log-probability of a word's pieces: a model whose logits favour exactly those
    pieces gets every blank right, whatever the number of pieces."""
    tokenizer, model = toy
    base = Baselines(TOY)
    blanks = held_out_blanks(TOY, 12, seed=2)

    class Oracle(torch.nn.Module):
        config = model.config

        def parameters(self):
            return model.parameters()

        def forward(self, input_ids, attention_mask):
            logits = torch.zeros(*input_ids.shape, len(tokenizer))
            for row in range(len(input_ids)):
                blank = blanks[row // 4 + self.offset]
                pieces = tokenizer(blank.word, add_special_tokens=False)["input_ids"]
                masks = (input_ids[row] == tokenizer.mask_token_id).nonzero().flatten().tolist()
                for position, piece in zip(masks, pieces):
                    logits[row, position, piece] = 20.0
            return type("Out", (), {"logits": logits})

    oracle = Oracle()
    oracle.offset = 0
    scores = model_scores(oracle, tokenizer, blanks, base.vocab, batch=4 * len(blanks))
    answers = [base.index[b.word] for b in blanks]
    assert scores.argmax(-1).tolist() == answers


def test_the_judge_reports_the_model_beside_both_baselines(toy):
    tokenizer, model = toy
    scores = judge(model, tokenizer, TOY, TOY, count=40, seed=0)
    assert scores["blanks"] == 40 and scores["blanks_in_vocabulary"] == 1.0
    assert scores["bigram_top1"] > scores["unigram_top1"]
    assert 0 <= scores["top1"] <= scores["top5"] <= 1


def test_the_masked_models_training_step_lowers_its_loss():
    from aigc.training import make_config
    from aigc.training.bert import MaskedLMTask
    from aigc.training.trainer import make_accelerator

    config = make_config("bert", "shakespeare", n_layer=1, n_embd=32, n_head=2, batch_size=8, lr=3e-3, warmup=0,
                         precision="no", device="cpu")
    task = MaskedLMTask(config, make_accelerator(config), None)
    batch = task.batch(0)
    assert (batch["labels"] != -100).any() and (batch["input_ids"] == task.tokenizer.mask_token_id).any()
    masked = batch["labels"] != -100
    assert (batch["input_ids"][masked] == task.tokenizer.mask_token_id).all()  # whole words, all [MASK]
    task.model.eval()  # the loss scored at the blanks only is BertForMaskedLM's own loss
    assert torch.allclose(task.model(**batch), task.model.mlm(**batch).loss, atol=1e-5)
    first = None
    for _ in range(30):
        task.model.train()
        loss = task.model(**batch)
        task.descend(loss, task.model, task.optimizer)
        first = loss.item() if first is None else first
    assert loss.item() < 0.7 * first, (first, loss.item())
    assert task.batch(5)["input_ids"].tolist() == task.batch(5)["input_ids"].tolist()  # a step's batch is fixed
