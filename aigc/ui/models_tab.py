"""Models tab: every model this app can run without the internet, each with its card.

The cards are the models' README.md files (written by training and `python -m aigc eval`);
this tab shows one table of them all and, for the chosen model, its card and samples.
The table is Markdown, so that its header row is translated with the page (see aigc.ui.i18n);
its cells and the cards are the models' own words, in English.
"""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import pandas as pd

from ..catalog import ModelInfo, list_models
from ..evaluation.headline import headline
from .i18n import i18n

SPEED = {"images_per_s": "{:,.0f} images/s", "conditional_images_per_s": "{:,.0f} images/s",
         "tokens_per_s": "{:,.0f} tokens/s", "clip_seconds": "{:.2f} s per clip"}
COLUMNS = ["Model", "Task", "Kind", "Data", "Parameters", "Quality (real data)", "Speed", "Source"]


def _own_models() -> list[ModelInfo]:
    return [m for m in list_models() if m.own]


def _quality(card: dict) -> str:
    """The card's headline figure (the kind's evaluation names it), the real-data figure in brackets."""
    found = headline(card)
    if found is None:
        # a run's trainer measured what it could: on pictures no judge knows, there is no headline
        return "no judge for this data" if card.get("measured_by") == "trainer" else "not measured yet"
    head, value, real = found
    return f"{head.label} {value:.3g}" + (f" ({real:.3g})" if real is not None else "")


def _speed(card: dict) -> str:
    metrics = card.get("metrics") or {}
    return next((fmt.format(metrics[k]) for k, fmt in SPEED.items() if k in metrics), "")


def overview() -> pd.DataFrame:
    rows = []
    for m in _own_models():
        card = m.card
        params = card.get("parameters")
        rows.append([m.name, m.task, card.get("kind", ""), card.get("dataset", ""),
                     f"{params / 1e6:.2f} M" if isinstance(params, (int, float)) else "",
                     _quality(card), _speed(card), "built in" if m.source == "builtin" else "your run"])
    return pd.DataFrame(rows, columns=COLUMNS)


def table(frame: pd.DataFrame | None = None) -> str:
    """The overview as a Markdown table under the translated header row."""
    frame = overview() if frame is None else frame
    cells = [[str(v).replace("|", "\\|").replace("\n", " ") for v in row] for row in frame.itertuples(index=False)]
    return "\n".join([str(i18n("models.header")), "|" + " --- |" * len(COLUMNS),
                      *("| " + " | ".join(row) + " |" for row in cells)])


def show_card(name: str):
    """Endpoint `model_card`: the card (Markdown) and sample grid of a built-in model or a run."""
    models = {m.name: m for m in _own_models()}
    if name not in models:
        # Runs are listed in the table above; naming them all here would bury the sentence.
        builtin = [m.name for m in models.values() if m.source == "builtin"]
        runs = len(models) - len(builtin)
        raise gr.Error(f"Unknown model '{str(name)[:80]}'; choose a built-in model ({', '.join(builtin)})"
                       + (f" or one of your {runs} runs in the table." if runs else "."), print_exception=False)
    folder = Path(models[name].location)
    text = (folder / "README.md").read_text(encoding="utf-8")
    body = text.split("---", 2)[2] if text.startswith("---") else text
    # Pictures are shown beside the card: Markdown paths relative to the card do not resolve in the page.
    body = "\n".join(line for line in body.splitlines() if not line.startswith("!["))
    body = BASH_BLOCK.sub(lambda block: block[1] + "\n".join(map(wrapped, block[2].split("\n"))) + block[3], body)
    samples = next((folder / f for f in ("samples.png", "samples.gif") if (folder / f).is_file()), None)
    return body, (str(samples) if samples else None)


BASH_BLOCK = re.compile(r"(```bash\n)(.*?)(\n```)", re.DOTALL)
# Characters of a command line that fit the card's column (about 700 pixels at a 1280-pixel page);
# a longer line would hide its end behind the code block's scroll bar.
COMMAND_WIDTH = 64


def wrapped(line: str, width: int = COMMAND_WIDTH) -> str:
    """A shell command on lines of at most `width` characters where it can be, joined by `\\`, so that
    what is copied still runs. Lines break between words outside quotes, an option with its value;
    a trailing `# comment` moves above the command."""
    if len(line) <= width:
        return line
    words, comment = _shell_words(line)
    if not words:
        return line
    units = []
    for word in words:  # `--steps 60` and `&& python` stay on one line
        joins = units and " " not in units[-1] and not word.startswith("-") and word != "&&"
        if joins and (units[-1].startswith("-") or units[-1] == "&&"):
            units[-1] += " " + word
        else:
            units.append(word)
    lines = [units[0]]
    for unit in units[1:]:
        if len(lines[-1]) + 1 + len(unit) + 2 <= width and not unit.startswith("&&"):  # room for " \\"
            lines[-1] += " " + unit
        else:
            lines.append("  " + unit)
    return (f"{comment}\n" if comment else "") + " \\\n".join(lines)


def _shell_words(line: str) -> tuple[list[str], str]:
    """The words of a command line as typed (quotes kept), and its `# comment`."""
    words, word, quote, i = [], "", None, 0
    while i < len(line):
        c = line[i]
        if quote:
            word += c
            quote = None if c == quote else quote
        elif c in "'\"":
            word, quote = word + c, c
        elif c == "\\" and i + 1 < len(line):
            word, i = word + line[i:i + 2], i + 1
        elif c.isspace():
            if word:
                words.append(word)
            word = ""
        elif c == "#" and not word:
            return words, line[i:].strip()
        else:
            word += c
        i += 1
    return words + [word] if word else words, ""


def build() -> tuple[gr.Markdown, gr.Dropdown]:
    overview_table = gr.Markdown(table(), elem_id="models-table")
    names = [m.name for m in _own_models()]
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            pick = gr.Dropdown(names, value=names[0] if names else None, label=i18n("common.model"),
                               elem_id="models-pick", allow_custom_value=True)  # runs finished after the page was built count too
            card = gr.Markdown(show_card(names[0])[0] if names else i18n("models.none"), elem_id="models-card")
        with gr.Column(scale=2):
            samples = gr.Image(show_card(names[0])[1] if names else None, label=i18n("common.samples"), type="filepath",
                               elem_id="models-samples", buttons=["download", "fullscreen"])
    pick.change(show_card, pick, [card, samples], api_name="model_card")
    return overview_table, pick


def refresh():
    """The table and the choices again (a training run may have added a model)."""
    return table(), gr.update(choices=[m.name for m in _own_models()])
