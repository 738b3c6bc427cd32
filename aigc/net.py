"""A free port, and the web app served in a process of its own: what the benchmarks and the tests start."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Iterator

from .paths import ROOT


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_process(*flags: str, timeout: float = 120) -> Iterator[tuple[subprocess.Popen, str]]:
    """`python app.py FLAGS` on a free port, once its page answers: (process, base URL without a final
    slash). `process.started_in` is the seconds from its start to its page, `process.saying()` what it has
    printed so far (stdout, stderr). Afterwards it is stopped, and what it printed is in `process.said`."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    url = f"http://127.0.0.1:{port}"
    # Files, not pipes: nobody reads a pipe while the app serves, and a full one would stop it.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), *flags, "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=out, stderr=err, text=True)

        def said() -> tuple[str, str]:
            out.seek(0)
            err.seek(0)
            return out.read(), err.read()

        try:
            while not _answers(url + "/"):
                if server.poll() is not None or time.perf_counter() - start > timeout:
                    raise RuntimeError(f"app.py did not serve its page: {said()[1][-2000:]}")
                time.sleep(0.05)
            server.started_in = time.perf_counter() - start
            server.saying = said  # what it has printed so far, for a test's failure message
            yield server, url
        finally:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            server.said = said()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as page:
            return page.status == 200
    except OSError:
        return False
