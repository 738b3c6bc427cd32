"""The built-in `tang-poems` corpus (scripts/build_tang_poems.py): what a character model of it reads,
and a Chinese prompt reaching such a model as typed."""

import re
from types import SimpleNamespace

import pytest

from aigc import cards
from aigc.cards import read_card, render_card
from aigc.data.text import EOS, WORK_SEPARATOR, char_tokenizer, encode_corpus, load_corpus, split_corpus
from aigc.paths import CHECKPOINTS
from aigc.pipelines.text import fit_vocabulary, prompt_ids
from aigc.training import make_config

PROMPT = "《静夜思》李白\n床前明月光，"
HEADING = re.compile(r"《[^《》\n]+》[^《》\n]+")


@pytest.fixture(scope="module")
def corpus() -> str:
    return load_corpus("tang-poems")


@pytest.fixture(scope="module")
def tokenizer(corpus):
    return char_tokenizer(corpus)


def test_the_corpus_is_the_tang_poems(corpus):
    assert len(corpus) > 4_000_000
    works = corpus.split(WORK_SEPARATOR)
    assert len(works) > 50_000
    assert "《静夜思》李白\n床前看月光，疑是地上霜。\n举头望山月，低头思故乡。" in corpus
    assert "《登鹳雀楼》王之涣\n白日依山尽，黄河入海流。" in corpus


def test_every_work_is_a_title_line_then_its_verses(corpus):
    for work in corpus.split(WORK_SEPARATOR):
        heading, *lines = work.strip("\n").split("\n")
        assert HEADING.fullmatch(heading), heading
        assert lines and all(line and not line.isspace() and "《" not in line for line in lines), work


def test_no_gaps_markup_latin_or_digits(corpus):
    # Squares and circles stand for characters the sources lost; braces and brackets are markup.
    assert not re.search(r"[□■○●囗�{}\[\]［］〖〗（）()A-Za-z0-9０-９\ue000-\uf8ff ]", corpus)
    assert "\t" not in corpus and "\u3000" not in corpus and "\n\n\n\n" not in corpus


def test_the_text_is_simplified(corpus):
    for traditional, simplified in [("國", "国"), ("學", "学"), ("東", "东"), ("書", "书"), ("風", "风"), ("爲", "为")]:
        assert traditional not in corpus and simplified in corpus
    assert "們" not in corpus


def test_the_char_tokenizer_round_trips_a_poem(corpus, tokenizer):
    poem = corpus.split(WORK_SEPARATOR)[0]
    ids = tokenizer(poem, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(poem) and tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids) == poem


def test_encoding_puts_an_end_of_text_before_each_poem(corpus):
    train, held_out = split_corpus(corpus)
    tok = char_tokenizer(train)
    ids = encode_corpus(held_out, tok)
    works = [w for w in held_out.split(WORK_SEPARATOR) if w.strip()]
    assert ids.tolist().count(tok.convert_tokens_to_ids(EOS)) == len(works)
    # Characters first seen in the held-out poems are few: the split measures verse, not unknowns.
    assert (ids == tok.unk_token_id).float().mean() < 0.005


def test_a_chinese_prompt_reaches_the_model_as_typed(tokenizer):
    lm = SimpleNamespace(tokenizer=tokenizer, context_length=256, info=SimpleNamespace(name="tang-gpt"))
    ids, shown, notices = prompt_ids(lm, PROMPT, budget=200)
    assert shown == PROMPT and notices == []
    assert ids == tokenizer(PROMPT, add_special_tokens=False)["input_ids"] and tokenizer.unk_token_id not in ids


def test_only_characters_the_model_lacks_are_changed(tokenizer):
    # The corpus prints “quotes”: they stay, although an ASCII corpus would want them straight.
    text, notices = fit_vocabulary(tokenizer, "“床前明月光”,A疑是地上霜?")
    assert text == "“床前明月光”，疑是地上霜？"
    assert any("Replaced" in n and ",→，" in n for n in notices) and any("Dropped 1" in n for n in notices)


def test_a_windows_line_end_is_one_line_end():
    text, _ = fit_vocabulary(char_tokenizer("ab\n"), "a\r\nb")
    assert text == "a\nb"


def test_the_character_models_train_on_it():
    assert make_config("gpt", "tang-poems").dataset == "tang-poems"
    assert make_config("lstm", "tang-poems").dataset == "tang-poems"


def test_a_card_of_a_tang_poems_gpt_describes_its_own_corpus(monkeypatch):
    # The pair's table needs two shipped cards; one shipped card twice stands in for them.
    monkeypatch.setattr(cards, "TEXT_PAIR", ("shakespeare-gpt", "shakespeare-gpt"))
    shakespeare = read_card(CHECKPOINTS / "text" / "shakespeare-gpt")
    assert "side by side" in render_card({**shakespeare, "name": "mine"})
    body = render_card({**shakespeare, "name": "tang-gpt", "dataset": "tang-poems"}).split("---", 2)[2]
    assert "《title》author" in body and "speaker names" not in body
    assert "side by side" not in body  # the built-in pair never read this corpus
