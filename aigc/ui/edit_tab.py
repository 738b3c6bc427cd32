"""Edit image tab: restore, upscale and restyle any picture with the built-in tools (offline, CPU), or
upscale and edit by instruction with Hub models; the result beside the picture it was given (a slider
over the two), and, after "damage it first", how much the tool got back (PSNR, SSIM)."""

from __future__ import annotations

import gradio as gr

from .. import limits
from ..catalog import HUB_DEFAULTS
from ..data.photos import SAMPLES, STYLES, load_photo
from ..errors import AigcError
from ..pipelines import edit as pipeline
from ..pipelines import restyle as styles
from ..serving import Engine
from .editor import file_of, mask_from_editor
from .endpoint import endpoint
from .i18n import i18n, language, say, translate
from .steps import moving

BUILT_IN = "built-in"
HUB_UPSCALERS = [i for i, _ in HUB_DEFAULTS["edit"] if "pix2pix" not in i]
HUB_INSTRUCT = [i for i, _ in HUB_DEFAULTS["edit"] if "pix2pix" in i]


def _picture_and_mask(edited):
    """(the picture, the painted hole as a mask picture or None) from the editor, or one sentence."""
    picture, mask = mask_from_editor(edited)
    if picture is None:
        raise AigcError("Upload a picture first (or pick a sample photo).")
    return picture, mask if mask is not None and mask.getextrema()[1] > 0 else None


def _answer(done: dict, request) -> tuple:
    lang = language(request)
    f = done["figures"]
    lines = [say(lang, "note.edit", s=f["seconds"])]
    if "psnr_after" in f:
        lines.append(say(lang, "note.edit_measured", pb=f["psnr_before"], pa=f["psnr_after"], sb=f["ssim_before"],
                         sa=f["ssim_after"]))
    lines += [translate(note, lang) for note in done["notes"]]
    return (done["before"], done["after"]), done["after"], "\n\n".join(lines)


def restore(edited, damage: str, amount: float, seed: int, request: gr.Request = None, *, engine: Engine):
    """Endpoint `restore`: (before/after, the result's PNG, notes). Noise, salt-and-pepper and JPEG blocks
    are removed; painted strokes mark a hole to fill."""
    picture, mask = _picture_and_mask(edited)
    done = engine.call("draw", pipeline.edit_image, picture, "restore", mask=mask, damage=damage, amount=amount, seed=seed)
    return _answer(done, request)


def upscale(edited, scale: int, model: str, damage: str, seed: int, progress=gr.Progress(), request: gr.Request = None,
            *, engine: Engine):
    """Endpoint `upscale`: x2 or x4 with the built-in upscaler, or with a Hub model."""
    picture, _ = _picture_and_mask(edited)
    done = engine.call("draw", pipeline.edit_image, picture, "upscale", model=None if model in (None, "", BUILT_IN) else model,
                       scale=int(scale), damage=damage, seed=seed, progress=moving(progress))
    return _answer(done, request)


def restyle(edited, style: str, style_file, steps: int, strength: float, seed: int, progress=gr.Progress(),
            request: gr.Request = None, *, engine: Engine):
    """Endpoint `restyle`: the picture painted in the texture of a shipped style picture or an uploaded one."""
    picture, _ = _picture_and_mask(edited)
    chosen = file_of(style_file)
    if not chosen:
        if style not in STYLES:
            raise AigcError(f"Unknown style '{str(style)[:40]}'; styles are {', '.join(STYLES)}, or upload a picture.")
        chosen = style
    done = engine.call("draw", pipeline.edit_image, picture, "restyle", style=chosen, steps=steps, strength=strength,
                       seed=seed, progress=moving(progress))
    return _answer(done, request)


def instruct(edited, instruction: str, model: str, steps: int, guidance: float, seed: int, progress=gr.Progress(),
             request: gr.Request = None, *, engine: Engine):
    """Endpoint `instruct`: a Hub InstructPix2Pix model edits the picture as told ("make it snowy")."""
    picture, _ = _picture_and_mask(edited)
    done = engine.call("draw", pipeline.edit_image, picture, "instruct", model=model, instruction=instruction,
                       steps=steps, guidance=guidance, seed=seed, progress=moving(progress))
    return _answer(done, request)


def _amount_for(damage: str):
    """The amount box set to the damage's default, with its range in the label's info."""
    if damage not in pipeline.DAMAGE_AMOUNTS:
        return gr.update()
    default, low, high = pipeline.DAMAGE_AMOUNTS[damage]
    return gr.update(value=default, minimum=low, maximum=high)


def sample_photo(name: str):
    """The editor holding a sample photo (held out from every tool's training)."""
    if name not in SAMPLES:
        return gr.update()
    return {"background": load_photo(name), "layers": [], "composite": None}


def build(engine: Engine) -> None:
    """The tab's layout and events."""
    cap = limits.current()
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            gr.Markdown(i18n("edit.intro"))
            editor = gr.ImageEditor(label=i18n("edit.picture"), type="pil", elem_id="editimg-editor",
                                    sources=["upload", "clipboard"], layers=False, height=340,
                                    brush=gr.Brush(colors=["#ffffff"], color_mode="fixed"))
            sample = gr.Radio(list(SAMPLES), label=i18n("edit.sample"), elem_id="editimg-sample")
            with gr.Tabs():
                with gr.Tab(i18n("edit.restore"), id="edit-restore"):
                    gr.Markdown(i18n("edit.restore_info"))
                    with gr.Row():
                        r_damage = gr.Dropdown([("—", "none"), (i18n("edit.noise"), "noise"),
                                                (i18n("edit.saltpepper"), "salt-and-pepper"), ("JPEG", "jpeg"),
                                                (i18n("edit.hole"), "hole")], value="noise",
                                               label=i18n("edit.damage_first"), elem_id="editimg-restore-damage")
                        r_amount = gr.Number(pipeline.DAMAGE_AMOUNTS["noise"][0], label=i18n("edit.amount"),
                                             info=i18n("edit.amount_info"), elem_id="editimg-restore-amount")
                    r_seed = gr.Number(0, label=i18n("common.seed"), precision=0, minimum=-1)
                    r_go = gr.Button(i18n("edit.restore_go"), variant="primary", elem_id="editimg-restore-go")
                with gr.Tab(i18n("edit.upscale"), id="edit-upscale"):
                    with gr.Row():
                        u_scale = gr.Radio([2, 4], value=2, label=i18n("edit.scale"), elem_id="editimg-scale")
                        u_model = gr.Dropdown([(i18n("edit.builtin"), BUILT_IN), *HUB_UPSCALERS], value=BUILT_IN,
                                              allow_custom_value=True, label=i18n("common.model"),
                                              info=i18n("edit.upscale_model_info"), elem_id="editimg-upscale-model")
                    u_damage = gr.Dropdown([("—", "none"), (i18n("edit.shrink"), "shrink")], value="none",
                                           label=i18n("edit.damage_first"), info=i18n("edit.shrink_info"),
                                           elem_id="editimg-upscale-damage")
                    u_seed = gr.Number(0, label=i18n("common.seed"), precision=0, minimum=-1)
                    u_go = gr.Button(i18n("edit.upscale_go"), variant="primary", elem_id="editimg-upscale-go")
                with gr.Tab(i18n("edit.restyle"), id="edit-restyle"):
                    s_style = gr.Radio(list(STYLES), value=STYLES[0], label=i18n("edit.style"), elem_id="editimg-style")
                    s_file = gr.Image(label=i18n("edit.style_upload"), type="filepath", sources=["upload", "clipboard"],
                                      height=140, elem_id="editimg-style-upload")
                    with gr.Row():
                        s_steps = gr.Slider(10, styles.MAX_STEPS, value=styles.STEPS, step=10,
                                            label=i18n("edit.style_steps"))
                        s_strength = gr.Slider(0.1, 10.0, value=1.0, step=0.1, label=i18n("edit.strength"),
                                               info=i18n("edit.strength_info"))
                    s_seed = gr.Number(0, label=i18n("common.seed"), precision=0, minimum=-1)
                    s_go = gr.Button(i18n("edit.restyle_go"), variant="primary", elem_id="editimg-restyle-go")
                with gr.Tab(i18n("edit.instruct"), id="edit-instruct"):
                    gr.Markdown(i18n("edit.instruct_info"))
                    i_text = gr.Textbox("make it snowy", label=i18n("edit.instruction"), max_lines=2)
                    i_model = gr.Dropdown(HUB_INSTRUCT, value=HUB_INSTRUCT[0], allow_custom_value=True,
                                          label=i18n("common.model"))
                    with gr.Row():
                        i_steps = gr.Slider(1, cap.max_diffusion_steps, value=20, step=1, label=i18n("common.denoising_steps"))
                        i_guidance = gr.Slider(0, 20, value=7.5, step=0.5, label=i18n("common.guidance"))
                    i_seed = gr.Number(-1, label=i18n("common.seed"), info=i18n("common.seed_info"), precision=0, minimum=-1)
                    i_go = gr.Button(i18n("edit.instruct_go"), variant="primary")
        with gr.Column(scale=3):
            compare = gr.ImageSlider(label=i18n("edit.before_after"), type="filepath", interactive=False,
                                     buttons=["download", "fullscreen"], elem_id="editimg-compare", max_height=640)
            result = gr.File(label=i18n("edit.download"), elem_id="editimg-result")
            notes = gr.Markdown(elem_classes="aigc-notice", elem_id="editimg-notes")

    outputs = [compare, result, notes]
    r_damage.change(_amount_for, r_damage, r_amount, queue=False, api_visibility="private")
    sample.change(sample_photo, sample, editor, queue=False, api_visibility="private")
    r_go.click(endpoint(engine, restore, seeds=("seed",)), [editor, r_damage, r_amount, r_seed], outputs,
               api_name="restore", concurrency_limit=2, preprocess=False)
    u_go.click(endpoint(engine, upscale, seeds=("seed",)), [editor, u_scale, u_model, u_damage, u_seed], outputs,
               api_name="upscale", concurrency_limit=2, preprocess=False)
    s_go.click(endpoint(engine, restyle, seeds=("seed",)), [editor, s_style, s_file, s_steps, s_strength, s_seed], outputs,
               api_name="restyle", concurrency_limit=1, preprocess=False)
    i_go.click(endpoint(engine, instruct, seeds=("seed",)), [editor, i_text, i_model, i_steps, i_guidance, i_seed], outputs,
               api_name="instruct", concurrency_limit=1, preprocess=False)
