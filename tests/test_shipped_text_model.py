"""The shipped `shakespeare-gpt` and `shakespeare-lstm` measure as their cards say: the bounds come from the
cards; the LSTM also meets its target beside the GPT."""

import random

import pytest
from conftest import shipped_card

from aigc.data.text import encode_corpus, load_corpus, split_corpus
from aigc.evaluation.text import has_speaker_line, heldout_loss, known_word_rate, sample_quality, words
from aigc.registry import load


@pytest.fixture(scope="module")
def corpus():
    train, held_out = split_corpus(load_corpus("shakespeare"))
    return train, held_out, set(words(train))


SHIPPED = ["shakespeare-gpt", "shakespeare-lstm"]


@pytest.mark.slow  # every character of the held-out text
@pytest.mark.parametrize("name", SHIPPED)
def test_heldout_loss_matches_the_card(corpus, name):
    lm = load(name, "text")
    _, held_out, _ = corpus
    loss = heldout_loss(lm.model, encode_corpus(held_out, lm.tokenizer), lm.context_length)
    assert loss == pytest.approx(shipped_card("text", name)["heldout_loss"], abs=0.005)


def test_the_lstm_is_within_its_target_and_the_cards_set_the_two_side_by_side():
    lstm, gpt = shipped_card("text", "shakespeare-lstm"), shipped_card("text", "shakespeare-gpt")
    assert lstm["heldout_loss"] <= 1.60 and gpt["heldout_loss"] < lstm["heldout_loss"] + 0.5
    from aigc.paths import CHECKPOINTS

    for name in SHIPPED:
        card = (CHECKPOINTS / "text" / name / "README.md").read_text(encoding="utf-8")
        assert "## The GPT and the LSTM side by side" in card
        assert f"| {lstm['heldout_loss']} |" in card.replace(f"{lstm['heldout_loss']} | ", f"{lstm['heldout_loss']} |")


def test_the_word_measure_separates_real_text_from_scrambled_text(corpus):
    _, held_out, vocabulary = corpus
    real = held_out[:20_000]
    scrambled = "".join(random.Random(0).sample(real, len(real)))
    assert known_word_rate(real, vocabulary) > 0.95
    assert known_word_rate(scrambled, vocabulary) < 0.5
    assert has_speaker_line(real) and not has_speaker_line(scrambled.replace(".", ""))


@pytest.mark.slow  # eight samples of 400 characters
@pytest.mark.parametrize("name", SHIPPED)
def test_samples_spell_real_words_and_name_their_speakers_as_the_card_says(corpus, name):
    # sample_quality's defaults are the card's seeds and lengths: the same samples, so the same figures,
    # but for a token drawn differently where another machine rounds differently
    quality = sample_quality(name, corpus[2])
    card = shipped_card("text", name)
    assert quality["sample_known_words"] == pytest.approx(card["sample_known_words"], abs=0.02)
    assert quality["sample_speaker_lines"] == pytest.approx(card["sample_speaker_lines"], abs=1 / 8)
    assert card["sample_known_words"] <= card["real_known_words"]  # beside the same measure on real text
