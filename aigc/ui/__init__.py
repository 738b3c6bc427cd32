"""The Gradio app: one module per tab, no model code (tabs call the `aigc` API)."""

from __future__ import annotations

import gradio as gr

from .. import limits
from ..device import best_device
from ..registry import list_models
from . import conditional_tab, image_tab, models_tab, text_tab, train_tab, video_tab

# System fonts only: the default theme fonts come from a web font service, which an
# offline machine cannot reach.
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber", neutral_hue="slate",
                       font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
CSS = """
#aigc-header h1 { margin-bottom: 0; }
#aigc-header p { margin-top: 4px; opacity: 0.8; }
.aigc-notice { min-height: 1.5em; }
.aigc-train-status progress { height: 14px; accent-color: #4f46e5; }
#train-zip { max-height: 150px; }
#text-output textarea { font-family: Georgia, "DejaVu Serif", serif; font-size: 1.05em; line-height: 1.45; }
"""


def build_demo(public: bool = False, training: bool = True) -> gr.Blocks:
    """The whole app. `public` lowers size limits (see aigc.limits) for strangers' use;
    `training=False` keeps the Train tab to watching runs."""
    limits.set_public(public, training)
    with gr.Blocks(title="AIGC Studio") as demo:
        gr.Markdown(
            "# AIGC Studio\n"
            f"Generate with small models trained by this project, offline on your {best_device().type.upper()}, "
            "or with Hugging Face Hub models when online.",
            elem_id="aigc-header",
        )
        with gr.Tabs():
            with gr.Tab("Text", id="text") as text:
                pickers = {"text": (text, text_tab.build())}
            with gr.Tab("Image", id="image") as image:
                pickers["image"] = (image, image_tab.build())
            with gr.Tab("Conditional image", id="conditional") as conditional:
                pickers["conditional"] = (conditional, conditional_tab.build())
            with gr.Tab("Video", id="video") as video:
                pickers["video"] = (video, video_tab.build(video))
            with gr.Tab("Train", id="train"):
                train_tab.build(demo)
            with gr.Tab("Models", id="models") as models:
                table, pick = models_tab.build()
        models.select(models_tab.refresh, None, [table, pick], queue=False, api_visibility="private")
        for task, (tab, picker) in pickers.items():
            # A model a training run just saved is offered as soon as its tab is opened.
            tab.select(lambda task=task: gr.update(choices=[m.name for m in list_models(task)]), None, picker,
                       queue=False, api_visibility="private")
    return demo
