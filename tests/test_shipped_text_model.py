"""The shipped `shakespeare-gpt` is good by measurement, and its card tells the truth."""

import random

import pytest

from aigc.data.text import encode_corpus, load_corpus, split_corpus
from aigc.evaluation.text import has_speaker_line, heldout_loss, known_word_rate, sample_quality, words
from aigc.registry import load


@pytest.fixture(scope="module")
def corpus():
    train, held_out = split_corpus(load_corpus("shakespeare"))
    return train, held_out, set(words(train))


@pytest.fixture(scope="module")
def lm():
    return load("shakespeare-gpt", "text")


def test_heldout_loss_meets_the_target_and_matches_the_card(corpus, lm):
    _, held_out, _ = corpus
    loss = heldout_loss(lm.model, encode_corpus(held_out, lm.tokenizer), lm.context_length)
    assert loss <= 1.60
    assert lm.info.card["metrics"]["heldout_loss"] == pytest.approx(loss, abs=0.005)


def test_the_word_measure_separates_real_text_from_scrambled_text(corpus):
    _, held_out, vocabulary = corpus
    real = held_out[:20_000]
    scrambled = "".join(random.Random(0).sample(real, len(real)))
    assert known_word_rate(real, vocabulary) > 0.95
    assert known_word_rate(scrambled, vocabulary) < 0.5
    assert has_speaker_line(real) and not has_speaker_line(scrambled.replace(".", ""))


def test_samples_spell_real_words_and_name_their_speakers(corpus):
    quality = sample_quality("shakespeare-gpt", corpus[2], samples=4, length=300)
    assert quality["sample_known_words"] >= 0.85
    assert quality["sample_speaker_lines"] >= 0.75
