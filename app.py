"""AIGC Studio: python app.py [--host H] [--port P] [--share] [--auth USER:PASS] [--public] [--no-training]
[--one-process | --ray [ADDRESS] [--replicas N]]"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import time

# Read by OpenMP when torch loads. Its threads otherwise spin for a while after each operation,
# and this server runs many small ones for several requests at once: the server's CPU per request
# drops (python -m aigc bench app).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Gradio's queue sums its record of events after every event, for a monitoring page this app does
# not turn on: a short record is asked for before gradio loads (aigc.compat, which imports no gradio).
from aigc.compat import quiet_gradio_queue_records  # noqa: E402

quiet_gradio_queue_records()


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="AIGC Studio web app")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                   help="address to listen on (0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    p.add_argument("--share", action="store_true", help="also serve on a public *.gradio.live link (needs the internet)")
    p.add_argument("--auth", metavar="USER:PASS", help="require this login")
    p.add_argument("--auth-file", metavar="FILE", help="require a login from this file: one USER:PASS a line, # comments")
    p.add_argument("--public", action="store_true", default=None,
                   help="lower size limits for strangers (on by default with --share or on a Space)")
    p.add_argument("--no-training", action="store_true",
                   help="the Train tab only shows runs (public mode otherwise caps training at 2,000 steps a run)")
    p.add_argument("--max-runs", type=int, default=None, help="training runs at the same time (default 1)")
    p.add_argument("--one-process", "--text-in-threads", dest="one_process", action="store_true",
                   help="generate in the server's own threads, not in worker processes (saves ~1 GB; slower under load)")
    p.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="generate on Ray Serve: a cluster's address, or none to join or start one here (pip install -e .[scale])")
    p.add_argument("--replicas", type=int, default=1, help="with --ray: replicas of each role (default 1)")
    return p.parse_args(argv)


def build_engine(args: argparse.Namespace, limits):
    """Where the models run: worker processes beside the server (the default), its own threads
    (--one-process), or Ray Serve (--ray), whose module is imported only then."""
    if args.ray is not None:
        from aigc.serving.ray import RayEngine

        return RayEngine(args.ray, replicas=max(1, args.replicas), limits=limits)
    from aigc.serving import InThreads, LocalEngine

    return InThreads(limits) if args.one_process else LocalEngine(limits)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.one_process and args.ray is not None:
        sys.exit("--one-process and --ray choose different places to generate: give one.")
    public = args.public if args.public is not None else bool(args.share or os.environ.get("SPACE_ID"))
    auth = logins(args)
    if args.share and not auth:
        print("Warning: --share without --auth lets anyone with the link use this machine.", file=sys.stderr)

    from aigc import limits
    from aigc.serving import load_model
    from aigc.ui import CSS, THEME, build_demo

    if args.max_runs is not None:
        os.environ["AIGC_MAX_RUNS"] = str(max(1, args.max_runs))
    engine = build_engine(args, limits.for_server(public, training=not args.no_training))
    demo = build_demo(engine, public=public, training=not args.no_training)
    if public:
        start_pruning()
    demo.queue(default_concurrency_limit=2, max_size=64 if public else None)
    said = io.StringIO()
    with contextlib.redirect_stdout(said):  # Gradio explains a failed share link at length; one sentence is ours
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth or None, theme=THEME,
                    css=CSS, prevent_thread_lock=True, max_file_size=(50 if public else 200) * 2**20)
    # Text is written, and pictures are drawn, where the engine runs them (worker processes by
    # default). They start once the page answers: their imports would otherwise compete with the
    # server's for the same cores. The first request then finds its model loaded.
    if not args.one_process:
        engine.warm("write", load_model, "shakespeare-gpt", "text")
        engine.warm("draw", load_model, "dcgan-digits", "image")
    if args.share and not demo.share_url:
        print(f"No public link: the share tunnel needs the internet. Still serving at {demo.local_url}", file=sys.stderr)
    else:
        print(said.getvalue(), end="")
    # A stop by the system (SIGTERM: a Space restarting, `kill`) ends the program as Ctrl+C does, so the
    # engine is closed: Ray Serve's deployments outlive the process that made them, holding their GPUs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo.block_thread()
    finally:
        engine.close()


def start_pruning(every_s: float = 600, older_than_s: float = 3600) -> None:
    """In public mode generated files live an hour: strangers' outputs must not fill the disk."""
    import threading

    from aigc.paths import prune_outputs

    def prune() -> None:
        while True:
            prune_outputs(older_than_s)
            time.sleep(every_s)

    threading.Thread(target=prune, daemon=True, name="prune-outputs").start()


def logins(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The (user, password) pairs of --auth and --auth-file; a malformed one ends the program with a sentence."""
    pairs = [("--auth", args.auth)] if args.auth else []
    if args.auth_file:
        try:
            lines = open(args.auth_file, encoding="utf-8").read().splitlines()
        except OSError as exc:
            sys.exit(f"--auth-file: cannot read {args.auth_file} ({exc.strerror}).")
        pairs += [(f"{args.auth_file} line {i}", line.strip()) for i, line in enumerate(lines, 1)
                  if line.strip() and not line.lstrip().startswith("#")]
    found = []
    for where, pair in pairs:
        user, sep, password = pair.partition(":")
        if not sep or not user.strip() or not password:
            sys.exit(f"{where}: a login is USER:PASS.")
        found.append((user.strip(), password))
    return found


if __name__ == "__main__":
    main()
