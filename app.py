"""AIGC Studio: python app.py [--host H] [--port P] [--share] [--auth USER:PASS] [--public] [--no-training] [--one-process]"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time

# Read by OpenMP when torch loads. Its threads otherwise spin for a while after each operation,
# and this server runs many small ones for several requests at once. Measured here (2 cores):
# one DCGAN image costs the server 15-18 ms of CPU instead of 37, and 32 tokens of text take
# 137 ms instead of 171 for one client.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Gradio's queue keeps a record of the last 10,000 events and, after every event, rebuilds a
# pandas table of them all for its monitoring page, which this app does not turn on: 1-2 ms of
# the server's lock per event under load. A short record, summed now and then, costs nothing.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")


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
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    public = args.public if args.public is not None else bool(args.share or os.environ.get("SPACE_ID"))
    auth = logins(args)
    if args.share and not auth:
        print("Warning: --share without --auth lets anyone with the link use this machine.", file=sys.stderr)

    from aigc.pipelines import worker
    from aigc.pipelines.text import serve_in_processes
    from aigc.ui import CSS, THEME, build_demo

    if args.max_runs is not None:
        os.environ["AIGC_MAX_RUNS"] = str(max(1, args.max_runs))
    demo = build_demo(public=public, training=not args.no_training)
    if public:
        start_pruning()
    demo.queue(default_concurrency_limit=2, max_size=64 if public else None)
    said = io.StringIO()
    with contextlib.redirect_stdout(said):  # Gradio explains a failed share link at length; one sentence is ours
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth or None, theme=THEME,
                    css=CSS, prevent_thread_lock=True, max_file_size=(50 if public else 200) * 2**20)
    # The built-in text models write, and pictures are drawn, in processes of their own, beside
    # the web server's threads rather than among them. They start once the page answers: their
    # imports would otherwise compete with the server's for the same cores (7 s to a page, not 9).
    if not args.one_process:
        serve_in_processes(warm=("shakespeare-gpt",))
        worker.serve_in_process(warm=(("dcgan-digits", "image"),))
    if args.share and not demo.share_url:
        print(f"No public link: the share tunnel needs the internet. Still serving at {demo.local_url}", file=sys.stderr)
    else:
        print(said.getvalue(), end="")
    demo.block_thread()


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
