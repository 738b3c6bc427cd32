"""Long generations tell the app how far they are (its progress bar), step by step, for the
built-in diffusion models and for Hub pipelines alike; outside the app they print nothing."""

from aigc.pipelines.conditional import generate_conditional
from aigc.pipelines.image import generate_images
from aigc.pipelines.video import generate_video
from aigc.progress import reporting


def _steps_told(call) -> list[tuple[int, int]]:
    told = []
    with reporting(lambda done, total: told.append((done, total))):
        call()
    return told


def test_built_in_diffusion_reports_each_denoising_step():
    assert _steps_told(lambda: generate_images("ddpm-digits", num_images=2, steps=5, seed=0)) == [(i, 5) for i in range(1, 6)]
    guided = _steps_told(lambda: generate_conditional(3, model="cddpm-digits", num_images=2, steps=4, seed=0))
    assert guided == [(i, 4) for i in range(1, 5)]


def test_hub_pipelines_report_their_steps_too(tiny_sd, tiny_t2v):
    told = _steps_told(lambda: generate_conditional("a red fox", model=str(tiny_sd), num_images=1, seed=3, steps=3,
                                                    width=64, height=64))
    assert told == [(i, 3) for i in range(1, 4)]
    told = _steps_told(lambda: generate_video("a red fox", model=str(tiny_t2v), num_frames=4, fps=4, seed=0, steps=2))
    assert told == [(1, 2), (2, 2)]


def test_nothing_is_told_or_printed_outside_reporting(capsys):
    generate_images("ddpm-digits", num_images=1, steps=3, seed=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_the_app_shows_the_steps_of_a_diffusion_request(app_url):
    import time

    from gradio_client import Client

    client = Client(app_url, verbose=False, download_files=False)
    job = client.submit("ddpm-digits", 8, 0, 40, "ddim", api_name="/generate_images")
    seen = set()
    while not job.done():
        status = job.status()
        seen |= {(p.index, p.length, p.unit) for p in status.progress_data or []}
        time.sleep(0.01)
    job.result()
    assert seen and all(length == 40 and unit == "steps" for _, length, unit in seen)
    assert len({index for index, _, _ in seen}) >= 2  # the bar moved while the images were drawn


def test_a_pipeline_call_reports_through_its_public_callback_or_not_at_all():
    """progress.step_callback: diffusers' callback_on_step_end, else an older pipeline's callback with
    callback_steps, else nothing; outside `reporting` nothing at all."""
    from aigc.progress import step_callback

    class Current:  # runs 3 steps and says so (num_timesteps), as diffusers' pipelines do
        num_timesteps = 3

        def __call__(self, prompt, callback_on_step_end=None):
            for i in range(3):
                kept = callback_on_step_end(self, i, 999 - i, {"latents": i})
                assert kept == {"latents": i}  # the pipeline's tensors come back unchanged

    class Older:
        def __call__(self, prompt, callback=None, callback_steps=None):
            assert callback_steps == 1
            for i in range(2):
                callback(i, 999 - i, None)

    class Neither:
        def __call__(self, prompt):
            pass

    def run(pipe, steps):
        return _steps_told(lambda: pipe("a fox", **step_callback(pipe, steps)))

    assert run(Current(), 7) == [(1, 3), (2, 3), (3, 3)]  # the pipeline's own count wins
    assert run(Older(), 2) == [(1, 2), (2, 2)]
    assert run(Neither(), 2) == []
    assert step_callback(Current(), 3) == {}  # nobody listens


def test_hub_pipelines_draw_no_bar(tiny_sd, capsys):
    generate_conditional("a red fox", model=str(tiny_sd), num_images=1, seed=3, steps=2, width=64, height=64)
    err = capsys.readouterr().err
    assert "it/s]" not in err and "s/it]" not in err and "%|" not in err  # no tqdm bar
