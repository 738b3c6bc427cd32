"""The Train tab and the app's runs: streaming curves, one run at a time, resume, uploads, export."""

import html
import io
import json
import re
import time
import zipfile

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

import aigc
from aigc.errors import AigcError
from aigc.paths import RUNS
from aigc.catalog import list_models
from aigc.training.jobs import Jobs, RunView, export_zip, smoothed

TINY_DCGAN = dict(width=8, z_dim=16, batch_size=16, eval_every=1000, checkpoint_every=1000)


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_a_run_streams_growing_curves_and_its_model_joins_the_image_tab(client):
    # kind, dataset, upload, name, steps, batch size, lr, seed, sample every
    job = client.submit("dcgan", "digits", None, "tab-dcgan", 40, 16, 2e-4, 0, 10, api_name="/start_training")
    updates = list(job)
    plotted = [u[2]["value"] for u in updates if isinstance(u[2], dict) and u[2].get("value")]
    steps_seen = [max((row[0] for row in v["data"]), default=0) for v in plotted]
    assert len(steps_seen) >= 3 and steps_seen == sorted(steps_seen) and steps_seen[-1] == 40
    series = {row[1] for row in plotted[-1]["data"]}
    # the legend lists the smoothed curves by what they measure; each raw one is drawn lighter under it
    assert {"generator loss", "discriminator loss", "generator loss (raw)", "discriminator loss (raw)"} <= series
    d_series = {row[1] for u in updates if isinstance(u[3], dict) and u[3].get("value") for row in u[3]["value"]["data"]}
    assert {"D(x)", "D(G(z))"} <= d_series
    status, log = updates[-1][1], updates[-1][8]
    assert "finished" in status and "step 40 / 40" in status and "step 40: finished; the best checkpoint is step" in log
    # the label's words are an i18n key (the page shows "Samples at step" or "样本 · 训练步数"), then the step
    assert any(isinstance(u[5], dict) and re.search(r'"train.samples_at"\} [\d,]+$', str(u[5].get("label")))
               for u in updates)

    run = next(m for m in list_models("image") if m.name == "tab-dcgan")
    assert run.source == "run" and run.card["kind"] == "dcgan"
    images = aigc.generate_images("tab-dcgan", num_images=2, seed=0)
    assert len(images) == 2 and images[0].size == (32, 32)

    archive = client.predict("tab-dcgan", api_name="/download_run")
    names = zipfile.ZipFile(archive).namelist()
    assert {"generator.safetensors", "config.json", "README.md", "metrics.jsonl", "training-config.json"} <= set(names)


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_watching_a_finished_run_shows_it_once(client):
    runs = client.predict("dcgan", "digits", None, "tab-watch", 10, 16, 2e-4, 0, 10, api_name="/start_training")
    updates = list(client.submit("tab-watch", api_name="/watch_training"))
    assert len(updates) == 1 and "finished" in updates[0][1]
    with pytest.raises(Exception, match="no run named"):
        client.predict("no-such-run", api_name="/watch_training")
    with pytest.raises(Exception, match="letters, digits"):
        client.predict("../../etc", api_name="/watch_training")


@pytest.mark.parametrize("args, words", [
    (("dcgan", "digits", None, "", 0, 16, 2e-4, 0, 10), "less than minimum value 1|Steps must be a whole number"),
    (("dcgan", "digits", None, "", 10, 16, 5.0, 0, 10), "learning rate must be a number above 0 and at most 1"),
    (("dcgan", "shakespeare", None, "", 10, 16, 2e-4, 0, 10), "trains on digits, shapes"),
    (("nonsense", "digits", None, "", 10, 16, 2e-4, 0, 10), "Unknown model kind"),
    (("dcgan", "upload", None, "", 10, 16, 2e-4, 0, 10), "Upload a .zip"),
    (("dcgan", "digits", None, "../x", 10, 16, 2e-4, 0, 10), "letters, digits"),
])
def test_bad_training_requests_get_one_sentence(client, args, words):
    with pytest.raises(Exception, match=words):
        client.predict(*args, api_name="/start_training")


def test_one_run_at_a_time_stop_and_resume_continue_the_curve(tmp_path):
    jobs = Jobs(max_running=1)
    first = jobs.start("dcgan", "digits", name="jobs-a", steps=2000, **TINY_DCGAN)
    with pytest.raises(AigcError, match="'jobs-a' is training now.*1 run at a time"):
        jobs.start("dcgan", "digits", name="jobs-b", steps=10, **TINY_DCGAN)
    view = RunView(first.out)
    while not view.refresh().steps:
        time.sleep(0.2)
    assert jobs.newest() == "jobs-a" and "Stopping 'jobs-a'" in jobs.stop()
    last = first.wait()
    assert last.data["reason"] == "stopped"
    stopped_at = last.step
    assert jobs.stop() == "No run is training."
    resumed = jobs.resume("jobs-a", steps=stopped_at + 20)
    assert resumed.wait().data["reason"] == "finished"
    view.refresh()
    steps = [e.step for e in view.steps]
    assert steps == sorted(set(steps)) and steps[-1] == stopped_at + 20  # one curve, no repeats
    with pytest.raises(AigcError, match="more steps than that"):
        jobs.resume("jobs-a", steps=5)
    with pytest.raises(AigcError, match="exists already: Resume it"):
        jobs.start("dcgan", "digits", name="jobs-a", steps=10)


def _zip_of_images(path, n=40, size=24, folders=("dots", "bars")):
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(n):
            picture = Image.fromarray((rng.random((size, size, 3)) * 255).astype(np.uint8))
            data = io.BytesIO()
            picture.save(data, format="PNG")
            archive.writestr(f"{folders[i % len(folders)]}/{i}.png", data.getvalue())
    return path


def test_a_run_trains_on_an_uploaded_zip_of_images(tmp_path):
    jobs = Jobs()
    run = jobs.start("vae", "upload", name="jobs-upload", upload=_zip_of_images(tmp_path / "mine.zip"), steps=20,
                     width=8, latent=4, batch_size=8, eval_every=20, sample_every=20, checkpoint_every=20)
    events = list(run)
    assert events[-1].data["reason"] == "finished", events[-1].data
    losses = [e.data["loss"] for e in events if e.type == "step"]
    assert losses[-1] < losses[0]
    config = json.loads((run.out / "config.json").read_text())
    assert config["dataset"] == str(run.out / "dataset.zip") and (run.out / "dataset.zip").is_file()
    assert json.loads((run.out / "best" / "config.json").read_text())["channels"] == 3


def test_a_bad_upload_is_refused_before_a_run_starts(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(AigcError, match="not a .zip"):
        Jobs().start("dcgan", "upload", name="jobs-bad", upload=bad, steps=5)
    assert not (RUNS / "jobs-bad").exists()
    with pytest.raises(AigcError, match="trains on"):
        Jobs().start("text2img", "upload", name="jobs-bad", upload=_zip_of_images(tmp_path / "ok.zip"), steps=5)


def test_run_view_reads_only_whole_lines_and_follows_a_rewrite(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    start = {"type": "start", "step": 0, "data": {"total_steps": 30}, "time": 0}
    step = lambda s, loss: {"type": "step", "step": s, "data": {"loss": loss, "lr": 0.1}, "time": 0}
    metrics.write_text(json.dumps(start) + "\n" + json.dumps(step(10, 2.0)) + "\n" + json.dumps(step(20, 1.0))[:20])
    view = RunView(tmp_path).refresh()
    assert [e.step for e in view.steps] == [10] and view.total == 30
    with open(metrics, "a") as f:
        f.write(json.dumps(step(20, 1.0))[20:] + "\n")
    assert [e.step for e in view.refresh().steps] == [10, 20]
    replacement = tmp_path / "new.jsonl"  # what a resume does: the file is replaced, shorter
    replacement.write_text(json.dumps(start) + "\n" + json.dumps(step(10, 2.0)) + "\n")
    replacement.replace(metrics)
    assert [e.step for e in view.refresh().steps] == [10]
    kinds = {(r["series"], r["kind"]) for r in view.curves()}
    assert kinds == {("loss", "raw"), ("loss (smoothed)", "smoothed")}


def test_smoothing_is_debiased_and_follows_a_trend():
    assert smoothed([5.0]) == [5.0]  # no pull towards zero at the start
    values = smoothed([10.0] * 5 + [0.0] * 50)
    assert values[4] == pytest.approx(10.0) and 0 < values[10] < 10 and values[-1] < 0.1


def test_export_needs_a_saved_model():
    with pytest.raises(AigcError, match="letters, digits"):
        export_zip("../secrets")
    (RUNS / "jobs-empty").mkdir(parents=True, exist_ok=True)
    with pytest.raises(AigcError, match="no saved model"):
        export_zip("jobs-empty")


def test_public_limits_cap_training_and_can_turn_it_off():
    from aigc import limits
    from aigc.ui.train_tab import start_training

    with limits.using(limits.for_server(True)):
        with pytest.raises(Exception, match="at most 2,000 steps"):
            next(start_training("dcgan", "digits", None, "", 5000, 16, 2e-4, 0, 10))
    with limits.using(limits.for_server(True, training=False)):
        with pytest.raises(Exception, match="Training is turned off"):
            next(start_training("dcgan", "digits", None, "", 10, 16, 2e-4, 0, 10))
    assert limits.current() == limits.PRIVATE


def test_the_number_of_runs_at_a_time_is_configurable(monkeypatch):
    monkeypatch.setenv("AIGC_MAX_RUNS", "3")
    assert Jobs().max_running == 3 and Jobs(max_running=2).max_running == 2


def test_in_public_mode_only_the_browser_that_started_a_run_can_stop_it():
    jobs = Jobs(max_running=1)
    run = jobs.start("dcgan", "digits", name="jobs-owned", steps=2000, owner="browser-a", **TINY_DCGAN)
    try:
        said = jobs.stop(by="browser-b", own_only=True)
        assert "only that browser can stop it" in said and run.running
        assert "Stopping 'jobs-owned'" in jobs.stop(by="browser-a", own_only=True)
        end = run.wait()
        assert end.data["reason"] == "stopped"
        resumed = jobs.resume("jobs-owned", steps=end.step + 2000, owner="browser-b")  # a resume changes hands
        assert "only that browser" in jobs.stop(by="browser-a", own_only=True)
        assert "Stopping" in jobs.stop(by="browser-b", own_only=True) and resumed.wait().data["reason"] == "stopped"
    finally:
        jobs.stop()


class _Page:
    """What the Train tab's functions read of a browser's request: its session and language cookie."""

    def __init__(self, session: str, language: str = "en-US"):
        self.session_hash, self.cookies = session, {"aigc-lang": language}


def _until(stream, condition, limit_s=60):
    for update in stream:
        if condition(update):
            return update
    raise AssertionError("the stream ended first")


def test_while_a_run_trains_start_says_why_it_waits_and_stop_and_resume_follow_the_run(monkeypatch):
    from aigc.ui import train_tab

    jobs = Jobs(max_running=1)
    monkeypatch.setattr(train_tab, "JOBS", jobs)
    page = _Page("browser-1")
    run = jobs.start("dcgan", "digits", name="tab-buttons", steps=2000, **TINY_DCGAN)
    try:
        stream = train_tab.watch("tab-buttons", page)
        first = next(stream)
        start, stop, resume = first[-3:]
        assert (start["interactive"], stop["interactive"], resume["interactive"]) == (False, True, False)
        assert "Start waits: 'tab-buttons' is training now" in html.unescape(first[1])
        # a second watch from the same page (a new Start, Resume or pick) replaces this stream
        newer = train_tab.watch("tab-buttons", page)
        next(newer)
        assert len(list(stream)) <= 1
        train_tab.stop_training("tab-buttons", page)
        last = list(newer)[-1]
        start, stop, resume = last[-3:]
        assert (start["interactive"], stop["interactive"], resume["interactive"]) == (True, False, True)
        assert "stopped" in last[1] and "Start waits" not in last[1]
        assert "stopped; the checkpoint is saved (Resume continues from here)" in last[8]
    finally:
        jobs.stop()
        run.wait()


def test_stop_tells_the_page_what_it_did(monkeypatch):
    from aigc.ui import train_tab

    said = []
    monkeypatch.setattr(train_tab.gr, "Info", said.append)
    monkeypatch.setattr(train_tab.gr, "Warning", said.append)
    jobs = Jobs(max_running=1)
    monkeypatch.setattr(train_tab, "JOBS", jobs)
    train_tab.stop_training(None, _Page("browser-1", "zh-CN"))
    run = jobs.start("dcgan", "digits", name="tab-stop-said", steps=2000, **TINY_DCGAN)
    try:
        train_tab.stop_training("tab-stop-said", _Page("browser-1"))
    finally:
        run.wait()
    assert said == ["没有正在训练的任务。", "Stopping 'tab-stop-said': it saves a checkpoint, then ends."]


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_a_chinese_page_reads_the_status_log_legends_and_errors_in_chinese(monkeypatch):
    from aigc.ui import train_tab

    jobs = Jobs(max_running=1)
    monkeypatch.setattr(train_tab, "JOBS", jobs)
    run = jobs.start("gpt", "shakespeare", name="tab-zh", steps=4, batch_size=2, block_size=16, n_layer=1, n_head=1,
                     n_embd=8, eval_every=2, sample_every=4, checkpoint_every=4)
    run.wait()
    zh = list(train_tab.watch("tab-zh", _Page("browser-zh", "zh-CN")))[-1]
    en = list(train_tab.watch("tab-zh", _Page("browser-en", "en-US")))[-1]
    assert "已完成" in zh[1] and "第 4 / 4 步" in zh[1] and "finished" not in zh[1]
    assert "开始训练" in zh[8] and "训练完成" in zh[8] and "started" not in zh[8]
    legend = {row[1] for row in zh[2]["value"].to_dict("split")["data"]}
    assert {"损失", "损失（原始值）", "验证损失"} <= legend
    assert {row[1] for row in zh[4]["value"].to_dict("split")["data"]} == {"学习率"}
    assert "finished" in en[1] and "step 4 / 4" in en[1]
    assert {"loss", "loss (raw)", "validation loss"} <= {row[1] for row in en[2]["value"].to_dict("split")["data"]}
    # a validation curve exists, so the title says so (it did even for GANs, which have none)
    assert en[2]["title"].key == "train.loss_plot_val"
    with pytest.raises(Exception, match="没有名为「no-such-run」的训练任务"):
        next(train_tab.watch("no-such-run", _Page("browser-zh", "zh-CN")))


def test_a_run_named_by_default_is_not_hidden_behind_a_built_in_model_of_that_name():
    assert Jobs._fresh_folder("dcgan-digits").name == "dcgan-digits-2"  # the built-in dcgan-digits owns the name
    assert Jobs._fresh_folder("dcgan-my-photos").name == "dcgan-my-photos"


def test_an_unjudged_run_says_it_kept_the_newest_weights():
    from aigc.training.events import Event
    from aigc.ui.train_tab import _log_line

    kept = Event("eval", 20, {"best": True})
    judged = Event("eval", 20, {"best": True, "score": 3.5, "selected_by": "score"})
    assert "newest weights saved" in _log_line(kept, "en") and "best so far" in _log_line(judged, "en")
