import os
import threading
import time
import warnings

import pytest

import aigc
from aigc.errors import AigcError, Notice
from aigc.pipelines import text
from aigc.pipelines.text import fit_vocabulary
from aigc.registry import load


def test_shipped_model_is_listed_with_its_card():
    infos = {m.name: m for m in aigc.list_models("text")}
    info = infos["shakespeare-gpt"]
    assert info.source == "builtin" and info.card["task"] == "text"
    assert infos["gpt2"].source == "hub"
    with pytest.raises(AigcError):
        aigc.list_models("sound")


def test_same_seed_same_text_and_other_seeds_differ():
    a = aigc.generate_text("ROMEO.\n", max_new_tokens=60, seed=7)
    b = aigc.generate_text("ROMEO.\n", max_new_tokens=60, seed=7)
    c = aigc.generate_text("ROMEO.\n", max_new_tokens=60, seed=8)
    assert a == b and a != c and len(a) > 20


def test_stream_yields_growing_text_and_reports_timing():
    stream = aigc.generate_text("HAMLET.\n", max_new_tokens=40, seed=1, stream=True)
    chunks = list(stream)
    assert len(chunks) > 5
    assert len(stream.tokens) == 40 or stream.tokens[-1:] == [stream.lm.tokenizer.eos_token_id]
    assert stream.first_token_s is not None and stream.first_token_s > 0


def test_close_stops_generation_at_once():
    stream = aigc.generate_text("", max_new_tokens=1000, seed=1, stream=True)
    for _ in stream:
        stream.close()
    assert len(stream.tokens) < 100 and stream.finish_reason in ("stopped", "eos")


def test_zero_temperature_is_greedy_and_ignores_the_seed():
    assert aigc.generate_text("KING.", max_new_tokens=30, temperature=0, seed=1) == \
        aigc.generate_text("KING.", max_new_tokens=30, temperature=0, seed=2)


def test_empty_prompt_starts_a_new_work():
    assert len(aigc.generate_text("", max_new_tokens=50, seed=3)) > 10


def test_unknown_characters_are_replaced_or_dropped_with_a_notice():
    lm = load("shakespeare-gpt", "text")
    text, notices = fit_vocabulary(lm.tokenizer, "Caf\u00e9 \u201chello\u201d \u4f60")
    assert text == 'Cafe "hello" '
    assert any("Replaced" in n for n in notices) and any("Dropped 1" in n for n in notices)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aigc.generate_text("\u4f60\u597d", max_new_tokens=5, seed=0)
    assert any(issubclass(w.category, Notice) for w in caught)


def test_a_100k_character_prompt_is_cut_to_the_context_with_a_notice():
    stream = aigc.generate_text("To be. " * 15_000, max_new_tokens=20, seed=0, stream=True)
    stream.text()
    assert any("keeps the last" in n for n in stream.notices)
    assert len(stream.prompt) <= 256


def test_long_outputs_slide_past_the_context_window(tiny_gpt2):
    stream = aigc.generate_text("To be", model=str(tiny_gpt2), max_new_tokens=150, temperature=0, stream=True)
    text = stream.text()
    assert stream.lm.context_length == 64
    assert stream.finish_reason == "length" and len(stream.tokens) == 150
    assert text == stream.lm.tokenizer.decode(stream.tokens)  # every token past the window reaches the text


@pytest.mark.parametrize("kwargs, words", [
    (dict(max_new_tokens=0), "max_new_tokens"),
    (dict(max_new_tokens=10**9), "max_new_tokens"),
    (dict(max_new_tokens=2.5), "whole number"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(temperature=-1), "temperature"),
    (dict(top_k=-3), "top_k"),
    (dict(top_p=0), "top_p"),
    (dict(top_p="lots"), "top_p"),
    (dict(seed=-5), "seed"),
    (dict(seed=True), "seed"),
    (dict(prompt=123), "prompt"),
    (dict(model="no-such-model/../../etc"), "Unknown model"),
    (dict(model=""), "Choose a model"),
])
def test_bad_input_gets_one_sentence(kwargs, words):
    args = {"prompt": "A", "max_new_tokens": 5, **kwargs}
    with pytest.raises(AigcError, match=words) as info:
        aigc.generate_text(**args)
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message and "Traceback" not in message


def test_an_uncached_hub_id_offline_fails_fast_with_one_sentence():
    start = time.perf_counter()
    with pytest.raises(AigcError, match="not in the local cache"):
        aigc.generate_text("Hello", model="someone/not-downloaded-model", max_new_tokens=5)
    assert time.perf_counter() - start < 10


def test_hub_loading_path_on_a_tiny_random_gpt2(tiny_gpt2):
    stream = aigc.generate_text("To be", model=str(tiny_gpt2), max_new_tokens=12, seed=0, stream=True)
    text = stream.text()
    assert stream.lm.info.source == "local" and len(stream.tokens) == 12
    assert stream.prompt == "To be" and not stream.notices  # byte-level BPE knows every character
    assert text and text == stream.lm.tokenizer.decode(stream.tokens)  # the text is the tokens it wrote
    assert aigc.generate_text("To be", model=str(tiny_gpt2), max_new_tokens=12, seed=0) == text
    assert aigc.generate_text("To be", model=str(tiny_gpt2), max_new_tokens=12, seed=1) != text
    # 12 tokens from a 64-position model can also run past its window on a long prompt
    long = aigc.generate_text("To be " * 100, model=str(tiny_gpt2), max_new_tokens=50, seed=0, stream=True)
    long.text()
    assert any("keeps the last" in n for n in long.notices)


def test_chat_template_is_used_when_the_model_has_one(tiny_chat_gpt2):
    stream = aigc.generate_text("Who are you?", model=str(tiny_chat_gpt2), max_new_tokens=5, seed=0, stream=True)
    stream.text()
    assert "chat template" in " ".join(stream.notices)
    assert stream.prompt.startswith("[user] Who are you?") and stream.prompt.rstrip().endswith("[assistant]")


def test_a_stream_can_be_read_in_fewer_larger_chunks():
    whole = aigc.generate_text("ROMEO.\n", max_new_tokens=120, seed=3)
    stream = aigc.generate_text("ROMEO.\n", max_new_tokens=120, seed=3, stream=True)
    chunks = list(stream.every(60))  # the first chunk at once, then at most one a minute: the rest at the end
    assert "".join(chunks) == whole and len(chunks) == 2 and len(stream.tokens) == 120
    every_token = list(aigc.generate_text("ROMEO.\n", max_new_tokens=30, seed=3, stream=True).every(0))
    assert "".join(every_token) == aigc.generate_text("ROMEO.\n", max_new_tokens=30, seed=3) and len(every_token) > 5


def _read_together(streams):
    texts = [None] * len(streams)

    def read(i):
        texts[i] = "".join(streams[i])

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(streams))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return texts


@pytest.fixture
def batch_sizes(monkeypatch):
    """The number of requests in each `generate` call of the built-in model."""
    lm = load("shakespeare-gpt", "text")
    sizes, generate = [], lm.model.generate

    def counting(input_ids, **kwargs):
        sizes.append(len(input_ids))
        return generate(input_ids, **kwargs)

    monkeypatch.setattr(lm.model, "generate", counting)
    return sizes


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_requests_written_together_read_as_if_written_alone(batch_sizes):
    asks = [("ROMEO.\n", 90, 0.8, 5), ("JULIET.\nO Romeo", 20, 1.0, 6), ("To be", 130, 0.8, 7),
            ("KING.\nWhat say you", 60, 0, 8), ("", 45, 1.2, 9)]
    alone = [aigc.generate_text(p, max_new_tokens=n, temperature=t, seed=s) for p, n, t, s in asks]
    batch_sizes.clear()
    streams = [aigc.generate_text(p, max_new_tokens=n, temperature=t, seed=s, stream=True) for p, n, t, s in asks]
    together = _read_together(streams)
    assert max(batch_sizes) >= 3  # they did share generate calls
    assert together == alone  # each text follows from its own prompt, settings and seed only
    assert all(len(s.tokens) == n or s.finish_reason == "eos" for s, (_, n, _, _) in zip(streams, asks))


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_stopping_one_request_leaves_the_others_writing(batch_sizes):
    alone = aigc.generate_text("HAMLET.\n", max_new_tokens=150, seed=2)
    streams = [aigc.generate_text("HAMLET.\n", max_new_tokens=150, seed=2, stream=True) for _ in range(3)]
    streams[0].close()
    texts = _read_together(streams)
    assert max(batch_sizes) >= 2
    assert streams[0].finish_reason == "stopped" and len(streams[0].tokens) < 150
    assert texts[1] == texts[2] == alone and streams[1].finish_reason == "length"


def test_a_new_request_joins_a_running_round_within_a_few_tokens(monkeypatch):
    import time

    from aigc.pipelines.text import ROUND_TOKENS

    lm = load("shakespeare-gpt", "text")
    rounds, generate, forward = [], lm.model.generate, lm.model.forward

    def recorded(input_ids, **kwargs):
        out = generate(input_ids, **kwargs)
        rounds.append((len(input_ids), out.shape[1] - input_ids.shape[1]))  # (requests, tokens written)
        return out

    def slow(*args, **kwargs):  # 5 ms a token: the second request surely arrives during the first round
        time.sleep(0.005)
        return forward(*args, **kwargs)

    monkeypatch.setattr(lm.model, "generate", recorded)
    monkeypatch.setattr(lm.model, "forward", slow)
    first = aigc.generate_text("ROMEO.\n", max_new_tokens=100, temperature=0, stream=True)
    reading = iter(first)
    next(reading)  # its round has begun
    second = aigc.generate_text("JULIET.\n", max_new_tokens=5, temperature=0, stream=True)
    assert second.text() and "".join(reading)
    # The first round ended early for the newcomer, not after ROUND_TOKENS tokens; the next wrote both.
    assert rounds[0][0] == 1 and rounds[0][1] < ROUND_TOKENS and rounds[1][0] == 2, rounds
    assert len(first.tokens) == 100 and len(second.tokens) == 5


def _counting_batches():
    """In the process that writes: count the requests in each `generate` call of the built-in model."""
    lm = load("shakespeare-gpt", "text")
    generate, sizes = lm.model.generate, []

    def counting(input_ids, **kwargs):
        sizes.append(len(input_ids))
        return generate(input_ids, **kwargs)

    lm.model.generate = counting
    lm.batch_sizes = sizes


def _batch_sizes() -> list[int]:
    return load("shakespeare-gpt", "text").batch_sizes


def _written(events):
    """(prompt + text, its Finish) from the events of `text.write`."""
    written, finish = "", None
    for event in events:
        if isinstance(event, text.Prompt):
            written = event.shown
        elif isinstance(event, text.Finish):
            finish = event
        else:
            written += event
    return written, finish


@pytest.fixture
def writer():
    from aigc.serving import LocalEngine

    engine = LocalEngine(threads=8)
    yield engine
    engine.close()


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_the_app_writes_in_a_worker_process_with_the_same_text_batched_across_requests(writer):
    alone = "ROMEO.\n" + aigc.generate_text("ROMEO.\n", max_new_tokens=70, seed=11)
    writer.call("write", _counting_batches)
    streams = [writer.stream("write", text.write, "ROMEO.\n", max_new_tokens=70, seed=11) for _ in range(3)]
    texts = [None] * 3

    def read(i):
        texts[i] = _written(streams[i])

    threads = [threading.Thread(target=read, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [written for written, _ in texts] == [alone] * 3
    assert all(finish.tokens == 70 and finish.seed == 11 and finish.tokens_per_s > 0 for _, finish in texts)
    assert max(writer.call("write", _batch_sizes)) >= 2  # the worker wrote them together
    assert writer.workers["write"].process.pid != os.getpid()


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_stop_ends_the_writing_in_the_worker_at_once_and_says_what_was_written(writer):
    stream = writer.stream("write", text.write, "", max_new_tokens=1000, seed=1)
    events = iter(stream)
    assert isinstance(next(events), text.Prompt)
    next(events)
    stream.close()
    written, finish = _written(events)
    assert finish.reason == "stopped" and finish.tokens < 100


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_a_worker_that_dies_costs_its_requests_one_sentence_and_the_next_gets_a_new_one(writer):
    from aigc.serving import ended

    stream = writer.stream("write", text.write, "ROMEO.\n", max_new_tokens=1000, seed=3)
    first = None
    with pytest.raises(AigcError, match=ended("write")):
        for _ in stream:
            first = first or writer.workers["write"].process
            first.kill()
    again = [_written(writer.stream("write", text.write, "ROMEO.\n", max_new_tokens=20, seed=3))[0] for _ in range(2)]
    assert again[0] == again[1] and len(again[0]) > len("ROMEO.\n")
    assert writer.workers["write"].process.pid != first.pid
