"""python -m aigc bench serve: how much the app serves, per engine (aigc.serving), as users reach it.

For each engine - the local worker processes (`python app.py`), and Ray Serve with one and with
two replicas per role (`python app.py --ray --replicas N`) - and each kind of request, the app
runs in a process of its own and clients, in processes of their own, ask through its API
(gradio_client), as strangers' browsers do:

1. capacity: requests answered per second at saturation: more callers than the app lets in at
   once, each asking again as soon as it is answered;
2. latency: the median and 95th percentile time from a request's arrival to its answer, with
   arrivals at 70% of that capacity, open loop: at random (Poisson) times that do not wait for
   earlier answers, as independent users arrive.

The clients share the machine with the app: on a small machine their CPU counts against it.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import ssl
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from ..net import app_process

# A Ray instance of the app's own ("local"), not one that something else on this machine runs
ENGINES = {"local": (), "ray-1": ("--ray", "local", "--replicas", "1"), "ray-2": ("--ray", "local", "--replicas", "2")}
CLIENT_PROCESSES = 2
CALLERS = 8  # per client process at saturation: more than an endpoint lets in at once (images 4, text 8)
LOAD = 0.7  # the latency phase's arrival rate, as a share of capacity


@dataclass(frozen=True)
class Work:
    label: str
    api: str
    inputs: tuple  # the endpoint's inputs, SEED standing for a new seed per request


SEED = "seed"
WORK = {
    "dcgan": Work("DCGAN pages (16 images)", "/generate_images", ("dcgan-digits", 16, SEED, 25, "ddim")),
    "diffusion": Work("25-step diffusion pages (ddpm-digits, 16 images, DDIM)", "/generate_images",
                      ("ddpm-digits", 16, SEED, 25, "ddim")),
    "text": Work("64-token texts (shakespeare-gpt)", "/generate_text",
                 ("ROMEO.\n", "shakespeare-gpt", 64, 0.8, 50, 0.95, SEED)),
}


def _client(url: str):
    from gradio_client import Client

    # One TLS context for every call: by default the client builds one per HTTP call, even on plain http.
    return Client(url + "/", verbose=False, download_files=False, ssl_verify=ssl.create_default_context(),
                  max_workers=256)


def _inputs(work: Work, seed: int) -> tuple:
    return tuple(seed if value == SEED else value for value in work.inputs)


def _warm(url: str, work: str, callers: int) -> None:
    """In a client process: one request from each of `callers` threads at once."""
    client, job = _client(url), WORK[work]

    def ask(seed: int) -> None:
        try:
            client.predict(*_inputs(job, seed), api_name=job.api)
        except Exception:  # noqa: BLE001 - the measured phases count failures
            pass

    threads = [threading.Thread(target=ask, args=(900_000 + i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _saturate(url: str, work: str, callers: int, start_at: float, seconds: float,
              first_seed: int) -> tuple[list[float], list[str]]:
    """In a client process: `callers` threads each asking again as soon as answered, from `start_at`
    (time.time(), shared by the processes) for `seconds`. Returns the times answers came, and what
    went wrong with the requests that failed."""
    client, job, answered, failed = _client(url), WORK[work], [], []
    lock = threading.Lock()

    def caller(index: int) -> None:
        seed = first_seed + 10_000 * index
        while time.time() < start_at + seconds:
            seed += 1
            try:
                client.predict(*_inputs(job, seed), api_name=job.api)
            except Exception as exc:  # noqa: BLE001 - counted, not raised: a failure is a finding
                with lock:
                    failed.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            with lock:
                answered.append(time.time())

    time.sleep(max(0.0, start_at - time.time()))
    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answered, failed


def _arrive(url: str, work: str, rate: float, start_at: float, seconds: float, seed: int) -> tuple[list[float], int]:
    """In a client process: requests at random times, `rate` per second on average (a Poisson process),
    each sent when it arrives whether or not earlier ones were answered. Returns each answered one's
    seconds from arrival to answer, and how many failed."""
    client, job, rng = _client(url), WORK[work], random.Random(seed)
    latencies, failures, lock = [], [0], threading.Lock()
    jobs: list[Future] = []

    def answered(arrived: float):
        def done(future: Future) -> None:
            with lock:
                if future.exception() is None:
                    latencies.append(time.time() - arrived)
                else:
                    failures[0] += 1
        return done

    arrival = start_at + rng.expovariate(rate)
    while arrival < start_at + seconds:
        time.sleep(max(0.0, arrival - time.time()))
        seed += 1
        future = client.submit(*_inputs(job, seed), api_name=job.api)
        future.add_done_callback(answered(arrival))
        jobs.append(future)
        arrival += rng.expovariate(rate)
    for future in jobs:
        try:
            future.result(timeout=600)
        except Exception:  # noqa: BLE001 - counted by its callback
            pass
    time.sleep(0.1)  # the last callbacks
    with lock:
        return list(latencies), failures[0]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def measure(url: str, work: str, seconds: float, pool: ProcessPoolExecutor) -> dict:
    """Capacity, then latency at LOAD of it, of one app for one kind of request."""
    # Every replica loads its model first (requests at once spread over the replicas): not measured.
    for run in [pool.submit(_warm, url, work, CALLERS // 2) for _ in range(CLIENT_PROCESSES)]:
        run.result()
    ramp = min(2.0, seconds / 4)  # callers reach a steady state before answers count
    start = time.time() + 1.0
    runs = [pool.submit(_saturate, url, work, CALLERS, start, ramp + seconds, 100_000 * i)
            for i in range(CLIENT_PROCESSES)]
    answers, failed = [], []
    for run in runs:
        answered, errors = run.result()
        answers += answered
        failed += errors
    capacity = sum(start + ramp <= t <= start + ramp + seconds for t in answers) / seconds
    rate = max(capacity * LOAD, 1e-3)
    start = time.time() + 1.0
    runs = [pool.submit(_arrive, url, work, rate / CLIENT_PROCESSES, start, seconds, 500_000 + 1000 * i)
            for i in range(CLIENT_PROCESSES)]
    latencies, failures = [], 0
    for run in runs:
        got, failed = run.result()
        latencies += got
        failures += failed
    return {"capacity": capacity, "saturated_failures": failed, "rate": rate, "latencies": latencies,
            "failures": failures}


def bench_serve(seconds: float = 10.0, engines: tuple[str, ...] = tuple(ENGINES),
                work: tuple[str, ...] = tuple(WORK)) -> list[tuple[str, str]]:
    """Rows for each engine and kind of request: capacity, and p50/p95 latency at LOAD of it.
    `seconds`: each phase's length (a shorter run is a rougher figure)."""
    rows = []
    spawn = multiprocessing.get_context("spawn")  # clients of their own, not forks of this process
    with ProcessPoolExecutor(CLIENT_PROCESSES, mp_context=spawn) as pool:
        for engine in engines:
            with app_process(*ENGINES[engine], timeout=600) as (_, url):
                for name in work:
                    found = measure(url, name, seconds, pool)
                    label = f"serve {WORK[name].label}, {engine}"
                    failed = found["saturated_failures"]
                    value = f"{found['capacity']:.2f}" + (f", {len(failed)} failed ({failed[0]})" if failed else "")
                    rows.append((f"{label}: capacity (requests/s answered at saturation)", value))
                    lat = found["latencies"]
                    value = (f"{_percentile(lat, 50) * 1000:.0f} / {_percentile(lat, 95) * 1000:.0f} ms"
                             if lat else "no answer")
                    if found["failures"]:
                        value += f", {found['failures']} failed"
                    rows.append((f"{label}: p50 / p95 latency at {LOAD:.0%} of it ({found['rate']:.2f}/s, open loop, "
                                 f"{len(lat)} requests)", value))
    return rows


def describe(seconds: float = 10.0, engines: tuple[str, ...] = tuple(ENGINES),
             work: tuple[str, ...] = tuple(WORK)) -> str:
    """How the rows were measured, for the line above the table."""
    return (f"Engines {', '.join(engines)}; each phase {seconds:g} s: capacity with {CLIENT_PROCESSES} client "
            f"processes of {CALLERS} callers each, then Poisson arrivals at {LOAD:.0%} of it from "
            f"{CLIENT_PROCESSES} client processes; latency from arrival to the whole answer.")
