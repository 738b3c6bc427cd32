"""Masked words from the command line (fill, rewrite, eval) and in the bench, on the tiny BERT of
tests/conftest.py; and the LSTM through the text evaluation and the bench, as a tiny CharLSTM saved the
way its training saves one."""

from __future__ import annotations

import lzma
import math
import re
import shutil
from types import SimpleNamespace

import pytest

from aigc.__main__ import main, task_of
from aigc.cards import METRIC_NAMES
from aigc.pipelines import fill
from aigc.pipelines.fill import kept_words, locked_indices


def card(folder, **facts) -> None:
    """A model card with only the facts given (a trained model's card has many more)."""
    front = "".join(f"{key}: {value}\n" for key, value in facts.items())
    (folder / "README.md").write_text(f"---\n{front}---\n# {folder.name}\n")


def candidates(line: str) -> list[tuple[str, float]]:
    """A `fill` line, "blank N: word p, word p", as (word, p) pairs."""
    listed = line.split(": ", 1)[1]
    return [(word, float(p)) for word, p in (pair.rsplit(" ", 1) for pair in listed.split(", "))]


def test_kept_words_lock_every_occurrence_whatever_the_case():
    text = "The red fox, the RED fox's den; red-eyed foxes."
    # words as rewrite counts them: The red fox the RED fox's den red eyed foxes
    assert locked_indices(text, "red, THE") == {0, 1, 3, 4, 7}
    assert locked_indices(text, "fox") == {2}  # "fox's" and "foxes" are other words
    assert locked_indices(text, "fox's  den") == {5, 6}
    assert locked_indices(text, "") == locked_indices(text, None) == locked_indices(text, "wolf") == set()
    assert kept_words("Sweet,prince  GOOD") == {"sweet", "prince", "good"}


def test_fill_prints_each_blanks_candidates_most_likely_first(toy_bert, capsys):
    assert main(["fill", "[MASK] red fox runs far\na blue [MASK] swims deep", "--model", toy_bert, "--top-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["blank 1", "blank 2"]
    found = [candidates(line) for line in lines]
    assert [c[0][0] for c in found] == ["the", "whale"]
    for listed in found:
        probs = [p for _, p in listed]
        assert len(listed) == 3 and probs == sorted(probs, reverse=True) and 0 < probs[0] <= 1


def test_a_passage_without_a_blank_is_one_sentence_on_stderr(toy_bert, capsys):
    assert main(["fill", "the red fox runs far", "--model", toy_bert]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: Mark a word to fill in") and err.count("\n") == 1


def test_rewrite_prints_the_passage_then_its_changes_and_kept_words_stay(toy_bert, capsys):
    text = "The red fox runs far\na blue fox swims deep"
    assert main(["rewrite", text, "--model", toy_bert, "--temperature", "1.5", "--keep", "RED, fox", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    passage, changes = out.rsplit("\n\n", 1)
    words = fill.WORD.findall(passage)
    assert (words[1], words[2], words[7]) == ("red", "fox", "fox")
    same = fill.rewrite(text, toy_bert, temperature=1.5, locked={1, 2, 7}, seed=3)
    assert passage == same.text
    assert changes.startswith(f"changed {len(same.changed)} word(s) (seed 3)")

    assert main(["rewrite", "a blue fox swims deep", "--model", toy_bert, "--temperature", "0",
                 "--keep", "a blue swims deep wolf", "--seed", "0"]) == 0
    out, err = capsys.readouterr()
    assert out == "a blue whale swims deep\n\nchanged 1 word(s) (seed 0): fox -> whale\n"
    assert "wolf" in err  # a kept word the passage lacks is said, not ignored


@pytest.fixture
def toy_corpus(monkeypatch, tmp_path, toy_lines) -> str:
    """`toy_lines` as a text dataset, named "toy-lines"."""
    from aigc.data import text

    path = tmp_path / "toy-lines.txt.xz"
    path.write_bytes(lzma.compress(toy_lines.encode()))
    monkeypatch.setitem(text.CORPORA, "toy-lines", path)
    return "toy-lines"


def test_the_fill_evaluation_judges_held_out_blanks_beside_the_baselines(toy_bert, toy_corpus):
    from aigc.evaluation.fill import evaluate_fill_model

    m = evaluate_fill_model(toy_bert, blanks=6, dataset=toy_corpus, runs=1)
    assert set(m) <= set(METRIC_NAMES)
    assert m["blanks"] == 6 and m["blanks_in_vocabulary"] == 1
    # every line is one of four sentences: a model that reads both sides of a blank knows most words
    assert m["top5"] >= m["top1"] >= 0.5 > m["unigram_top1"]
    assert 0 <= m["bigram_top1"] <= m["bigram_top5"] <= 1 and m["fill_ms"] > 0


def test_eval_on_the_command_line_knows_a_masked_model_and_reads_its_dataset_from_its_card(toy_bert, toy_corpus,
                                                                                            tmp_path, capsys):
    assert task_of(toy_bert) == "fill"  # transformers' config names a masked LM
    assert task_of("bert-base-uncased") == "fill" and task_of("gpt2") == "text"
    assert main(["eval", toy_bert]) == 2  # no card: nothing says which text it learned
    assert "does not name its training dataset" in capsys.readouterr().err

    folder = shutil.copytree(toy_bert, tmp_path / "my-bert")
    card(folder, task="fill", dataset=toy_corpus)
    assert main(["eval", str(folder)]) == 0
    out = capsys.readouterr().out
    row = re.search(re.escape(f"| {METRIC_NAMES['top1']} | ") + r"([\d.]+) \|", out)
    assert row and 0.5 <= float(row.group(1)) <= 1
    assert f"| {METRIC_NAMES['fill_ms']} | " in out


@pytest.fixture(scope="module")
def tiny_lstm(tmp_path_factory) -> str:
    """An untrained CharLSTM of the Shakespeare characters, saved by LSTMTask.save_model as a run's
    best model is shipped (float16), with a card naming its dataset."""
    import torch

    from aigc.data.text import char_tokenizer, load_corpus, split_corpus
    from aigc.models.lstm import CharLSTM
    from aigc.training.lstm import LSTMTask

    tokenizer = char_tokenizer(split_corpus(load_corpus("shakespeare"))[0])
    torch.manual_seed(0)
    net = CharLSTM(len(tokenizer), n_embd=8, hidden=16, layers=1, dropout=0.0, block_size=32)
    task = SimpleNamespace(kind="lstm", task="text", model=net, tokenizer=tokenizer,
                           accelerator=SimpleNamespace(unwrap_model=lambda model: model))
    folder = tmp_path_factory.mktemp("tiny-lstm")
    LSTMTask.save_model(task, folder, release=True)
    card(folder, task="text", kind="lstm", dataset="shakespeare")
    return str(folder)


def test_the_text_evaluation_judges_an_lstm(tiny_lstm):
    from aigc.evaluation.text import evaluate_text_model
    from aigc.registry import load

    assert task_of(tiny_lstm) == "text"
    m = evaluate_text_model(tiny_lstm, samples=1)
    assert set(m) <= set(METRIC_NAMES)
    # untrained: about as unsure as a uniform guess over its characters
    assert abs(m["heldout_loss"] - math.log(len(load(tiny_lstm, "text").tokenizer))) < 0.2
    assert m["heldout_perplexity"] == pytest.approx(math.exp(m["heldout_loss"])) and m["heldout_tokens"] > 100_000
    assert m["sample_known_words"] < 0.5 < m["real_known_words"]  # it cannot spell yet; real text can
    assert m["tokens_per_s"] > 0 and m["first_token_ms"] > 0


def test_the_text_bench_measures_the_lstm_and_one_mask_and_says_what_it_skips(toy_bert, tiny_lstm):
    from aigc.bench import bench_text

    rows = dict(bench_text(1, model="no-such-gpt", tokens=20, lstm=tiny_lstm, bert=toy_bert))
    assert rows["text no-such-gpt: not measured, no such built-in in checkpoints/text"] == "-"
    assert int(rows[f"text {tiny_lstm}: streamed tokens/s (batch 1, 20 tokens)"]) > 0
    assert re.fullmatch(r"\d+ ms", rows[f"text {tiny_lstm}: time to first token"])
    fill_row = next(value for label, value in rows.items() if label.startswith(f"fill {toy_bert}: one [MASK] filled"))
    assert re.fullmatch(r"[\d.]+ ms", fill_row) and float(fill_row[:-3]) > 0

    skipped = dict(bench_text(1, model="no-such-gpt", lstm="no-such-lstm", bert="no-such-bert"))
    assert list(skipped.values()) == ["-"] * 3
    assert "fill no-such-bert: not measured, no such built-in in checkpoints/fill" in skipped
