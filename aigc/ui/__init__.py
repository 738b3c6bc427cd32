"""The Gradio app: one module per tab, no model code (tabs call the `aigc` API)."""

from __future__ import annotations

import gradio as gr

from .. import compat, limits
from ..device import best_device
from ..paths import OUTPUTS
from ..catalog import list_models
from ..serving import Engine, InThreads
from . import audio_tab, conditional_tab, edit_tab, image_tab, models_tab, text_tab, train_tab, video_tab
from .i18n import I18N, LANGUAGE_HEAD, LANGUAGES, i18n

__all__ = ["CSS", "I18N", "THEME", "Studio", "build_demo"]

# System fonts only: the default theme fonts come from a web font service, which an
# offline machine cannot reach.
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber", neutral_hue="slate",
                       font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
CSS = """
#aigc-header h1 { margin-bottom: 0; }
#aigc-header p { margin-top: 4px; opacity: 0.8; }
.aigc-notice { min-height: 1.5em; }
#train-d:has(> .empty) { display: none; }  /* the discriminator's plot, while the run is no GAN */
.aigc-train-status progress { height: 14px; accent-color: #4f46e5; }
#train-zip { max-height: 150px; }
#text-output textarea { font-family: Georgia, "DejaVu Serif", serif; font-size: 1.05em; line-height: 1.45; }
.aigc-train-busy { margin-top: 4px; color: var(--body-text-color-subdued); }
""" + (  # Gradio's Settings panel lists every language of its own words: it shows only the app's
    "[role=dialog] [role=listbox] li[aria-label]" + "".join(f':not([aria-label="{n}"])' for n in LANGUAGES)
    + " { display: none; }\n")


class Studio(gr.Blocks):
    """The app's Blocks: `launch` passes the English and Chinese words (`I18N`) unless the caller
    gives its own `i18n`, and the page's scripts (the one that tells the server the page's language,
    and the Inpaint editor's check of uploads), so `build_demo().launch(...)` works the same
    wherever it is launched."""

    def launch(self, *args, **kwargs):
        if kwargs.get("i18n") is None:
            kwargs["i18n"] = I18N
        kwargs["head"] = LANGUAGE_HEAD + conditional_tab.CHECK_EDITOR_UPLOADS + (kwargs.get("head") or "")
        return super().launch(*args, **kwargs)


# Run in the page: when the language changes (the footer's Settings), click the hidden relabel button.
WATCH_LANGUAGE = """() => {
  if (window.aigcLanguageWatch) return;
  window.aigcLanguageWatch = new MutationObserver(() => document.querySelector('#aigc-relabel')?.click());
  window.aigcLanguageWatch.observe(document.documentElement, {attributes: true, attributeFilter: ['lang']});
}"""


def _relabel_tabs_on_language_change(demo: gr.Blocks) -> None:
    """Gradio translates a tab's name when the tab is drawn, so after a language change in Settings
    the tabs not yet opened keep their old names; sending every tab its name again fixes that."""
    tabs = [block for block in demo.blocks.values() if isinstance(block, gr.Tab)]
    relabel = gr.Button(visible="hidden", elem_id="aigc-relabel")
    relabel.click(lambda: [gr.update(label=tab.label) for tab in tabs], None, tabs, queue=False,
                  api_visibility="private", show_progress="hidden")
    demo.load(None, None, None, js=WATCH_LANGUAGE)


def _serve_outputs_as_they_are() -> None:
    """Generated pictures and clips are served from where they were written (each name ends in
    64 random bits) instead of being hashed and copied into Gradio's cache, most of the server's
    work for a page of samples otherwise: see `compat.serve_static_first`."""
    compat.serve_static_first([OUTPUTS / "images", OUTPUTS / "videos", OUTPUTS / "audio"])


def build_demo(engine: Engine | None = None, public: bool = False, training: bool = True) -> gr.Blocks:
    """The whole app, its models run by `engine` (aigc.serving; by default in the server's own
    threads). `public` lowers size limits (see aigc.limits) for strangers' use; `training=False`
    keeps the Train tab to watching runs. An engine given brings its own limits, which must then
    say the same. Words follow the browser's language (English or Simplified Chinese; see
    aigc.ui.i18n), or the footer's Settings."""
    wanted = limits.for_server(public, training)
    if engine is None:
        engine = InThreads(wanted)
    elif engine.limits != wanted:
        raise ValueError(f"the engine's limits are not those of public={public}, training={training}")
    with limits.using(engine.limits):  # the tabs size their controls by them
        return _build(engine, public)


def _build(engine: Engine, public: bool) -> gr.Blocks:
    _serve_outputs_as_they_are()
    # Gradio's copies of what it served: hourly, those older than a day (public: 10 min / 1 hour)
    keep = (600, 3600) if public else (3600, 86400)
    with Studio(title="AIGC Studio", delete_cache=keep) as demo:
        # one key per string: the device's name follows the translated sentence
        gr.Markdown("# AIGC Studio\n" + str(i18n("app.intro")) + f"**{best_device().type.upper()}**",
                    elem_id="aigc-header")
        with gr.Tabs():
            with gr.Tab(i18n("tab.text"), id="text") as text:
                write_model, fill_model = text_tab.build(engine)
                pickers = {"text": (text, write_model), "fill": (text, fill_model)}
            with gr.Tab(i18n("tab.image"), id="image") as image:
                pickers["image"] = (image, image_tab.build(engine))
            with gr.Tab(i18n("tab.conditional"), id="conditional") as conditional:
                pickers["conditional"] = (conditional, conditional_tab.build(engine))
            with gr.Tab(i18n("tab.video"), id="video") as video:
                pickers["video"] = (video, video_tab.build(engine, video))
            with gr.Tab(i18n("tab.audio"), id="audio") as audio:
                pickers["audio"] = (audio, audio_tab.build(engine, audio))
            with gr.Tab(i18n("tab.edit"), id="edit"):
                edit_tab.build(engine)
            with gr.Tab(i18n("tab.train"), id="train"):
                train_tab.build(engine, demo)
            with gr.Tab(i18n("tab.models"), id="models") as models:
                table, pick = models_tab.build()
        models.select(models_tab.refresh, None, [table, pick], queue=False, api_visibility="private")
        for task, (tab, picker) in pickers.items():
            # A model a training run just saved is offered as soon as its tab is opened.
            tab.select(lambda task=task: gr.update(choices=[m.name for m in list_models(task)]), None, picker,
                       queue=False, api_visibility="private")
        _relabel_tabs_on_language_change(demo)
    compat.attach_translations(demo, I18N)  # the config has the words before launch too (launch gives them again)
    return demo
