import threading
import time
import warnings

import pytest

import aigc
from aigc.errors import AigcError, Notice
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
    assert len(text) > 0


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
    assert isinstance(text, str)
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
    assert list(aigc.generate_text("ROMEO.\n", max_new_tokens=30, seed=3, stream=True).every(0)) != []


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


@pytest.fixture
def in_processes():
    from aigc.pipelines import text

    text.serve_in_processes(True)
    yield text
    text.serve_in_processes(False)


def test_the_app_writes_its_own_models_in_a_worker_process_with_the_same_text(in_processes):
    from aigc.pipelines.text_worker import RemoteBatcher

    alone = aigc.generate_text("ROMEO.\n", max_new_tokens=70, seed=11)
    streams = [aigc.generate_text("ROMEO.\n", max_new_tokens=70, seed=11, stream=True) for _ in range(3)]
    batcher = in_processes._batchers["shakespeare-gpt"]
    assert isinstance(batcher, RemoteBatcher) and batcher.process.is_alive()
    assert _read_together(streams) == [alone] * 3
    stopped = aigc.generate_text("", max_new_tokens=1000, seed=1, stream=True)
    for _ in stopped:
        stopped.close()
    assert stopped.finish_reason == "stopped" and len(stopped.tokens) < 100


def test_a_worker_that_dies_costs_its_requests_one_sentence_and_the_next_gets_a_new_one(in_processes):
    stream = aigc.generate_text("ROMEO.\n", max_new_tokens=1000, seed=3, stream=True)
    worker = in_processes._batchers["shakespeare-gpt"].process
    with pytest.raises(AigcError, match="Generation failed: the model's process has ended"):
        for _ in stream:
            worker.kill()
    assert aigc.generate_text("ROMEO.\n", max_new_tokens=20, seed=3) == \
        aigc.generate_text("ROMEO.\n", max_new_tokens=20, seed=3)
    assert in_processes._batchers["shakespeare-gpt"].process.pid != worker.pid


def test_idle_workers_beyond_two_end_least_recently_asked_first(in_processes, tiny_gpt2, monkeypatch):
    from aigc.registry import ModelInfo

    # three of this project's own models: the shipped one and two "runs" (the tiny model under two names)
    aigc.generate_text("ROMEO.\n", max_new_tokens=3, seed=0)
    workers = [in_processes._batchers["shakespeare-gpt"]]
    for name in ("run-a", "run-b"):
        lm = load(str(tiny_gpt2), "text")
        own = type(lm)(ModelInfo(name, "text", "run", str(tiny_gpt2)), lm.model, lm.tokenizer, lm.device)
        monkeypatch.setattr(in_processes.registry, "load", lambda spec, task, own=own: own)
        aigc.generate_text("To be", model=str(tiny_gpt2), max_new_tokens=3, seed=0)
        workers.append(in_processes._batchers[name])
    workers[0].process.join(timeout=30)
    assert not workers[0].process.is_alive()  # the least recently asked ended
    assert all(w.process.is_alive() for w in workers[1:]) and set(in_processes._batchers) == {"run-a", "run-b"}
