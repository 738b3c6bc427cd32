"""Editing text with a masked language model (aigc.pipelines.fill): blanks and their candidates, a
rewrite word by word with locked words, the difference shown, and one sentence for bad input. The
model is a tiny BERT that learns a toy text in a second (tests/conftest.py, `toy_bert`), saved and loaded
as a Hub model is."""

from __future__ import annotations

import pytest

from aigc.errors import AigcError
from aigc.pipelines import fill


def test_each_blank_gets_whole_words_most_likely_first_and_a_learned_model_knows_the_word(toy_bert):
    blanks, notes = fill.fill_mask("[MASK] red fox runs far\na blue [MASK] swims [MASK]", toy_bert, top_k=3)
    assert [b.start for b in blanks] == [0, 31, 44] and notes == []
    for blank in blanks:
        probs = [p for _, p in blank.candidates]
        assert len(blank.candidates) == 3 and probs == sorted(probs, reverse=True) and 0 < probs[0] <= 1
        assert not any(w.startswith("##") for w, _ in blank.candidates)
    assert [b.candidates[0][0] for b in blanks] == ["the", "whale", "deep"]


def test_rewrite_keeps_locked_words_and_the_seed_fixes_it(toy_bert):
    text = "The red fox runs far"
    one = fill.rewrite(text, toy_bert, temperature=1.5, locked={1, 2}, seed=4)
    assert one.text.split()[1:3] == ["red", "fox"]
    assert one.text == fill.rewrite(text, toy_bert, temperature=1.5, locked={1, 2}, seed=4).text
    assert one.text[0].isupper()  # a capital stays a capital
    greedy = fill.rewrite("a blue fox swims deep", toy_bert, temperature=0, locked={0, 1, 3, 4})
    assert greedy.text == "a blue whale swims deep" and greedy.changed == [("fox", "whale")]


def test_the_difference_rebuilds_both_texts(toy_bert):
    done = fill.rewrite("the red fox sleeps now, said the whale", toy_bert, temperature=2.0, seed=1)
    pieces = done.diff()
    assert "".join(t for t, tag in pieces if tag != "+") == done.original
    assert "".join(t for t, tag in pieces if tag != "-") == done.text
    assert (any(tag for _, tag in pieces)) == bool(done.changed)


@pytest.mark.parametrize("text, words", [
    ("", "Write a passage"), ("the red fox", "type [MASK]"), (" [MASK]" * 200, "At most 20 blanks"),
    ("x" * 100_000 + " [MASK]", "at most 2,000")])
def test_bad_passages_get_one_sentence(toy_bert, text, words):
    with pytest.raises(AigcError, match=words.replace("[", r"\[").replace("]", r"\]")):
        fill.fill_mask(text, toy_bert)


def test_characters_the_model_does_not_know_are_named_and_the_rest_is_filled(toy_bert):
    blanks, notes = fill.fill_mask("the red ☃ [MASK] runs far", toy_bert)
    assert len(blanks) == 1 and blanks[0].candidates and "☃" in notes[0]
    with pytest.raises(AigcError, match="no word to rewrite"):
        fill.rewrite("123 ... !!!", toy_bert)


def test_the_package_fills_and_rewrites_and_keep_names_words_as_locked_counts_them(toy_bert):
    import aigc

    blanks, _ = aigc.fill_mask("a blue [MASK] swims deep", toy_bert, top_k=2)
    assert blanks[0].candidates[0][0] == "whale"
    by_words = aigc.rewrite("The red fox runs far", toy_bert, temperature=1.5, keep="RED fox", seed=4)
    assert by_words.text == fill.rewrite("The red fox runs far", toy_bert, temperature=1.5, locked={1, 2}, seed=4).text
