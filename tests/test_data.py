import torch

from aigc.data.text import EOS, char_tokenizer, encode_corpus, load_corpus, random_blocks, split_corpus


def test_corpus_is_the_complete_works():
    text = load_corpus("shakespeare")
    assert len(text) > 4_500_000
    assert text.isascii()
    for line in ("To be, or not to be", "Now is the winter of our discontent", "Shall I compare thee to a summer's day?"):
        assert line in text


def test_holdout_is_the_last_five_percent():
    text = load_corpus("shakespeare")
    train, val = split_corpus(text)
    assert train + val == text
    assert abs(len(val) / len(text) - 0.05) < 1e-3
    assert "LEONTES" in val  # The Winter's Tale comes last in file-name order


def test_char_tokenizer_round_trips_and_marks_unknowns():
    tok = char_tokenizer("ab c\nd.")
    ids = tok("ab\n c", add_special_tokens=False)["input_ids"]
    assert len(ids) == 5
    assert tok.decode(ids) == "ab\n c"
    assert tok.unk_token_id in tok("a€b", add_special_tokens=False)["input_ids"]


def test_encoding_separates_works_with_end_of_text():
    tok = char_tokenizer("one\n\n\ntwo")
    ids = encode_corpus("one\n\n\ntwo", tok)
    eos = tok.convert_tokens_to_ids(EOS)
    assert ids.tolist().count(eos) == 2
    assert ids[0].item() == eos


def test_random_blocks_are_windows_of_the_stream():
    tokens = torch.arange(1000)
    blocks = random_blocks(tokens, 4, 16, torch.Generator().manual_seed(0))
    assert blocks.shape == (4, 16)
    assert torch.all(blocks[:, 1:] - blocks[:, :-1] == 1)
    again = random_blocks(tokens, 4, 16, torch.Generator().manual_seed(0))
    assert torch.equal(blocks, again)
