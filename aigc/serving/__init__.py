"""The seam between the web app and the models: an engine runs a function for a role.

The app builds one engine (app.py) and hands it to `build_demo`; tabs never call a model
themselves, they ask the engine: `engine.call("draw", pipeline.draw, ...)` for a page of
pictures, `engine.stream("write", text.write, ...)` for text as it is written. Where the
function runs is the engine's business:

- `InThreads`: in the caller's thread (the library, tests, `python app.py --one-process`);
- `LocalEngine` (aigc.serving.local): one worker process per role, beside the web server;
- `RayEngine` (aigc.serving.ray, imported only with `--ray`): Ray Serve deployments.

Roles: "draw" (pictures and clips) and "write" (text). Whatever runs a call runs it as a web
request (`as_a_web_request`): model names are built-in names or Hub ids, never folders of the
server, and the engine's size limits apply. A function travels by reference, so it must be a
module-level function; its arguments and result must pickle. See docs/architecture.md.
"""

from __future__ import annotations

from .engine import (ROLES, Engine, InThreads, Stream, as_a_web_request, check_role, ended, load_model, quietly,
                     run_stream_step)
from .local import LocalEngine

__all__ = ["ROLES", "Engine", "InThreads", "LocalEngine", "Stream", "as_a_web_request", "check_role", "ended",
           "load_model", "quietly", "run_stream_step"]
