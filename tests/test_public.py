"""The app as strangers meet it: share links offline, logins, and the flags of public mode."""

import time
from pathlib import Path

import httpx
import pytest

import app
from conftest import app_process


def test_logins_come_from_the_flag_and_a_file(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("# teachers\nada:lovelace\n\n  alan:turing:machine\n")
    args = app.parse_args(["--auth", "root:secret", "--auth-file", str(users)])
    assert app.logins(args) == [("root", "secret"), ("ada", "lovelace"), ("alan", "turing:machine")]
    users.write_text("nobody\n")
    with pytest.raises(SystemExit, match="line 1: a login is USER:PASS"):
        app.logins(app.parse_args(["--auth-file", str(users)]))
    with pytest.raises(SystemExit, match="cannot read"):
        app.logins(app.parse_args(["--auth-file", str(tmp_path / "missing.txt")]))


@pytest.mark.slow  # app.py started in its own process
def test_offline_share_fails_with_one_sentence_and_the_login_still_guards_the_local_server(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("ada:lovelace\n")
    with app_process("--share", "--auth-file", str(users)) as (server, url):
        assert httpx.get(url + "/gradio_api/info", timeout=10).status_code == 401  # no login, no API
        with httpx.Client(base_url=url, timeout=10) as browser:
            assert browser.post("/login", data={"username": "ada", "password": "wrong"}).status_code == 400
            assert browser.post("/login", data={"username": "ada", "password": "lovelace"}).status_code == 200
            assert browser.get("/gradio_api/info").status_code == 200
        time.sleep(1)
    out, err = server.said
    assert "No public link: the share tunnel needs the internet. Still serving at" in err
    assert "frpc" not in out + err and "Warning: --share without --auth" not in err


def test_old_outputs_are_pruned_and_new_ones_kept(tmp_path):
    import os
    import time

    from aigc.paths import prune_outputs

    old, new = tmp_path / "images" / "grid-old.png", tmp_path / "videos" / "clip-new.mp4"
    for path in (old, new):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert prune_outputs(3600, tmp_path) == 1
    assert not old.exists() and new.exists()


@pytest.mark.slow  # app.py started in its own process, twice
def test_the_app_generates_in_worker_processes_unless_told_to_use_one():
    import psutil
    from gradio_client import Client

    for flags, workers in (((), 2), (("--one-process",), 0)):
        with app_process(*flags) as (server, url):
            client = Client(url + "/", verbose=False)
            text, _ = client.predict("ROMEO.\n", "shakespeare-gpt", 20, 0.8, 50, 0.95, 1, api_name="/generate_text")
            gallery, grid, _ = client.predict("dcgan-digits", 3, 5, 25, "ddim", api_name="/generate_images")
            found = [p for p in psutil.Process(server.pid).children(recursive=True) if "multiprocessing.spawn" in " ".join(p.cmdline())
                     and "resource_tracker" not in " ".join(p.cmdline())]
            assert text.startswith("ROMEO.\n") and len(text) > 20 and len(found) == workers, (flags, found)
            assert len(gallery) == 3 and Path(grid).stat().st_size > 0, (flags, gallery, grid)
            # a diffusion request's steps reach the page's progress bar from the worker too
            job, seen = client.submit("ddpm-digits", 4, 0, 30, "ddim", api_name="/generate_images"), set()
            while not job.done():
                seen |= {(p.index, p.length) for p in job.status().progress_data or []}
                time.sleep(0.01)
            assert len(job.result()[0]) == 4 and len(seen) >= 2 and {n for _, n in seen} == {30}, (flags, seen)


def test_the_flags_choose_the_engine_and_its_limits():
    from aigc import limits
    from aigc.serving import InThreads, LocalEngine

    assert app.parse_args(["--ray"]).ray == "auto" and app.parse_args(["--ray", "10.0.0.5:6379"]).ray == "10.0.0.5:6379"
    assert app.parse_args([]).ray is None and app.parse_args(["--ray", "--replicas", "2"]).replicas == 2
    public = limits.for_server(True)
    local = app.build_engine(app.parse_args([]), public)
    assert isinstance(local, LocalEngine) and local.limits == public and local.workers["draw"].process is None  # lazily
    assert isinstance(app.build_engine(app.parse_args(["--one-process"]), public), InThreads)
    with pytest.raises(SystemExit, match="give one"):
        app.main(["--one-process", "--ray"])
