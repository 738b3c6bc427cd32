"""Model cards: huggingface_hub's `ModelCard`, whose `ModelCardData` (the YAML front matter)
holds the facts, and a body rendered from them.

The body is always re-rendered from the front matter, so the trainer (which writes
the first card) and `python -m aigc eval` (which adds measured metrics) cannot drift
apart. Reading a card imports nothing of training or the models.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from .paths import atomic_write_text

METRIC_NAMES = {
    "noise25_psnr": "PSNR (dB), Gaussian noise sigma 25, restored",
    "noise25_psnr_damaged": "PSNR (dB), Gaussian noise sigma 25, as damaged",
    "noise25_psnr_median": "PSNR (dB), Gaussian noise sigma 25, 3x3 median filter",
    "noise25_ssim": "SSIM, Gaussian noise sigma 25, restored",
    "noise25_ssim_median": "SSIM, Gaussian noise sigma 25, 3x3 median filter",
    "noise50_psnr": "PSNR (dB), Gaussian noise sigma 50, restored",
    "noise50_psnr_damaged": "PSNR (dB), Gaussian noise sigma 50, as damaged",
    "noise50_psnr_median": "PSNR (dB), Gaussian noise sigma 50, 3x3 median filter",
    "saltpepper_psnr": "PSNR (dB), 5% salt and pepper, restored",
    "saltpepper_psnr_damaged": "PSNR (dB), 5% salt and pepper, as damaged",
    "saltpepper_psnr_median": "PSNR (dB), 5% salt and pepper, 3x3 median filter",
    "jpeg20_psnr": "PSNR (dB), JPEG quality 20, restored",
    "jpeg20_psnr_damaged": "PSNR (dB), JPEG quality 20, as damaged",
    "jpeg20_psnr_median": "PSNR (dB), JPEG quality 20, 3x3 median filter",
    "hole_psnr": "PSNR (dB) inside painted holes (8% of the photo), filled",
    "hole_psnr_damaged": "PSNR (dB) inside the holes, left grey",
    "hole_psnr_biharmonic": "PSNR (dB) inside the holes, biharmonic inpainting",
    "x2_psnr": "PSNR (dB), shrunk 2x and enlarged back by the model",
    "x2_psnr_bicubic": "PSNR (dB), shrunk 2x and enlarged back by bicubic interpolation",
    "x2_ssim": "SSIM, shrunk 2x, the model",
    "x2_ssim_bicubic": "SSIM, shrunk 2x, bicubic",
    "x4_psnr": "PSNR (dB), shrunk 4x and enlarged back by the model",
    "x4_psnr_bicubic": "PSNR (dB), shrunk 4x and enlarged back by bicubic interpolation",
    "x4_ssim": "SSIM, shrunk 4x, the model",
    "x4_ssim_bicubic": "SSIM, shrunk 4x, bicubic",
    "ms_512": "Milliseconds for a 512x512 picture (median, this machine)",
    "digit_accuracy": "Share of clips the spoken-digit judge hears as the digit asked for",
    "worst_digit_accuracy": "The same share for the digit said worst",
    "real_digit_accuracy": "Baseline: the judge on real clips of the voices the model learned from",
    "real_worst_digit_accuracy": "Baseline: the same for the digit the judge hears worst in real clips",
    "kind_agreement": "Share of clips the judge hears as the kind of sound named (pluck, drum, chirp, siren, noise)",
    "pitch_agreement": "Share of clips whose measured pitch is the one named (low, high), among captions naming one",
    "length_agreement": "Share of clips whose measured length is the one named (short, long)",
    "direction_agreement": "Share of chirps whose pitch moves the way named (rising, falling)",
    "speed_agreement": "Share of sirens whose swing is as fast as named (slow, fast)",
    "no_sound_effect": "Share of clips the judge hears as no sound effect at all",
    "clips_per_s": "Generation speed: one-second clips a second (median; 16 clips a call)",
    "misheard": "Selection score at the best step: share of clips not heard as asked (lower is better)",
    "heldout_loss": "Held-out loss, every character of the held-out 5% (nats/char)",
    "heldout_perplexity": "Held-out perplexity (per character)",
    "val_loss_sampled": "Validation loss on a fixed sample of held-out windows, at the best step (nats/char)",
    "val_perplexity_sampled": "Perplexity on the same windows (per character)",
    "heldout_tokens": "Held-out characters scored",
    "sample_known_words": "Share of words in samples that occur in the training text (8 samples of 400 characters)",
    "real_known_words": "Share of words that occur in the training text, for real held-out text (baseline)",
    "sample_speaker_lines": "Share of samples with a speaker line such as `PROTEUS.`",
    "tokens_per_s": "Generation speed, batch 1 (tokens/s, median)",
    "first_token_ms": "Time to first token (ms, median)",
    "samples": "Samples judged (from fixed seeds: the same samples at every measurement)",
    "confident_digits": "Share of samples the digit classifier calls a digit with at least 90% confidence",
    "classes_covered": "Digit classes among the confident samples (of 10)",
    "smallest_class_share": "Share of the rarest class among confident samples (0.1 is perfectly even)",
    "frechet_distance": "Frechet distance to real held-out digits, in the classifier's features (lower is better)",
    "real_confident_digits": "Baseline: share of real training digits (or clips) called a digit with 90% confidence",
    "real_classes_covered": "Baseline: classes covered by real training digits",
    "real_frechet_distance": "Baseline: Frechet distance of real training digits to the held-out ones",
    "train_loss": "Loss (negative ELBO) on up to 512 fixed training images: this data has no held-out split",
    "train_reconstruction": "Reconstruction term of that loss",
    "train_kl": "KL term of that loss",
    "recon_psnr": "Reconstruction PSNR on held-out digits (dB)",
    "recon_ssim": "Reconstruction SSIM on held-out digits",
    "images_per_s": "Sampling speed (images/s, median; batch 64, or 16 at 25 steps for diffusion)",
    "score": "Selection score at the best step (lower is better)",
    "label_accuracy": "Share of samples the digit classifier reads as the requested label",
    "worst_label_accuracy": "The same share for the label drawn worst",
    "real_label_accuracy": "Baseline: the classifier's accuracy on real training digits",
    "color_accuracy": "Share of samples whose dominant foreground color is the named one (captions naming a color)",
    "shape_accuracy": "Share of samples the shape classifier reads as the named shape (captions naming a shape)",
    "position_accuracy": "Share of samples whose foreground centre is in the named cell of a 3x3 grid (captions naming a position)",
    "no_shape": "Share of samples where the shape classifier sees no shape at all",
    "full_color_accuracy": "Color accuracy, captions that name every attribute",
    "full_shape_accuracy": "Shape accuracy, captions that name every attribute",
    "full_position_accuracy": "Position accuracy, captions that name every attribute",
    "partial_color_accuracy": "Color accuracy, partial captions (each attribute named with probability 1/2)",
    "partial_shape_accuracy": "Shape accuracy, partial captions",
    "partial_position_accuracy": "Position accuracy, partial captions",
    "partial_raw_color_accuracy": "Color accuracy, partial captions given to the generator as they are (no completion)",
    "partial_raw_shape_accuracy": "Shape accuracy, partial captions, no completion",
    "partial_raw_position_accuracy": "Position accuracy, partial captions, no completion",
    "real_color_accuracy": "Baseline: color accuracy of the judge on real rendered shapes",
    "real_shape_accuracy": "Baseline: shape accuracy of the judge on real rendered shapes",
    "real_position_accuracy": "Baseline: position accuracy of the judge on real rendered shapes",
    "conditional_images_per_s": "Sampling speed (images/s, median; batch 16, 25 steps with guidance for diffusion)",
    "motion_accuracy": "Share of clips whose object moves the way the caption says (centroid track)",
    "color_consistency": "Share of frames whose dominant color is the clip's (1 = no flicker)",
    "worst_frame_color": "Color consistency at the frame position where it is lowest (the first or last frame flickers most)",
    "steady_clips": "Share of clips whose every frame shows the clip's color (no flicker at all)",
    "area_variation": "Relative standard deviation of the object's area over a clip (0 = steady size)",
    "no_motion": "Share of clips where the judge sees no motion it can name",
    "full_motion_accuracy": "Motion accuracy, captions that name every attribute",
    "partial_motion_accuracy": "Motion accuracy, partial captions (the motion always named)",
    "real_motion_accuracy": "Baseline: motion accuracy of the judge on real `moving-shapes` clips",
    "real_color_consistency": "Baseline: color consistency of real clips",
    "real_worst_frame_color": "Baseline: color consistency of real clips at their worst frame position",
    "real_steady_clips": "Baseline: share of real clips whose every frame shows their color",
    "real_area_variation": "Baseline: area variation of real clips",
    "clip_seconds": "One 16-frame clip generated and written as an MP4 (s, median)",
    "top1": "Share of held-out blanks whose word is the model's first choice (one word each of a held-out line)",
    "top5": "Share of held-out blanks whose word is among the model's five first choices",
    "word_misses": "Selection score at the best step: share of held-out blanks missed at top 1 (lower is better)",
    "unigram_top1": "Baseline: top-1 share of the most frequent training words, on the same blanks",
    "unigram_top5": "Baseline: top-5 share of the most frequent training words",
    "bigram_top1": "Baseline: top-1 share of a bigram model of the training words (the word before and after)",
    "bigram_top5": "Baseline: top-5 share of the bigram model",
    "blanks": "Held-out blanks judged",
    "blanks_in_vocabulary": "Share of the blanks whose word is among the candidates (seen twice in training)",
    "fill_ms": "One blank filled through the pipeline (ms, median; batch 1, a short passage)",
}

GPT_REFERENCES = """\
- A. Radford et al., *Language Models are Unsupervised Multitask Learners* (GPT-2), 2019:
  the architecture (transformers `GPT2LMHeadModel`).
- A. Karpathy, nanoGPT, `shakespeare_char`: a 10.7M-parameter character model reaches
  about 1.47 validation loss on a 90/10 split; a useful yardstick for this smaller model.
- I. Loshchilov and F. Hutter, *Decoupled Weight Decay Regularization* (AdamW), ICLR 2019.
- I. Loshchilov and F. Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*, ICLR 2017
  (the cosine learning-rate schedule, here with linear warm-up and no restarts).
"""


def read_card(folder: str | Path) -> dict[str, Any]:
    """The card's front matter (a fresh copy: callers may change it)."""
    return copy.deepcopy(_parsed(Path(folder) / "README.md")[0])


def card_title(folder: str | Path) -> str:
    """The card's first `# ` heading, or ''."""
    return _parsed(Path(folder) / "README.md")[1]


_PARSED: dict[Path, tuple[int, tuple[dict[str, Any], str]]] = {}


def _parsed(readme: Path) -> tuple[dict[str, Any], str]:
    """(front matter, title) of a README, parsed again only when the file changes: the app looks
    at every card on each request, and YAML costs milliseconds a card."""
    try:
        stamp = readme.stat().st_mtime_ns
    except OSError:
        return {}, ""
    cached = _PARSED.get(readme)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    text = readme.read_text(encoding="utf-8")
    card = ModelCard(text) if text.startswith("---") else None  # a README without front matter has no facts
    front, body = (card.data.to_dict(), card.text) if card is not None else ({}, text)
    title = next((line[2:].strip() for line in body.splitlines() if line.startswith("# ")), "")
    _PARSED[readme] = (stamp, (front, title))
    return front, title


def model_card(meta: dict[str, Any]) -> ModelCard:
    """The card of `meta`: its front matter in the order given, and the body rendered from it."""
    data = ModelCardData(**meta)
    return ModelCard(f"---\n{data.to_yaml(original_order=list(meta))}\n---\n{_body(meta)}")


def render_card(meta: dict[str, Any]) -> str:
    return str(model_card(meta))


def _body(meta: dict[str, Any]) -> str:
    kind = meta.get("kind")
    if kind == "gpt":
        return _gpt_body(meta)
    if kind == "lstm":
        return _lstm_body(meta)
    if kind == "bert":
        return _bert_body(meta)
    if kind in IMAGE_KINDS:
        return _image_body(meta)
    if kind in AUDIO_KINDS:
        return _audio_body(meta)
    if kind in EDIT_KINDS:
        return _edit_body(meta)
    return _conditional_body(meta) if kind in CONDITIONAL_KINDS else _generic_body(meta)


def write_card(folder: str | Path, meta: dict[str, Any]) -> None:
    atomic_write_text(Path(folder) / "README.md", render_card(meta))


def update_metrics(folder: str | Path, metrics: dict[str, float]) -> dict[str, Any]:
    """Merge measured metrics into a card's front matter (its other facts and their order kept) and
    re-render its body; returns the front matter."""
    readme = Path(folder) / "README.md"
    card = ModelCard.load(readme)
    card.data.metrics = {**(card.data.get("metrics") or {}), **{k: _round(v) for k, v in metrics.items()}}
    card.text = _body(card.data.to_dict())
    atomic_write_text(readme, str(card))
    return card.data.to_dict()


def card_metrics(metrics: dict[str, float]) -> dict[str, float | int]:
    """Figures as a card's front matter keeps them: rounded, counts as integers, none undefined."""
    return {k: _round(v) for k, v in metrics.items() if math.isfinite(v)}


def _round(value: float) -> float | int:
    if float(value).is_integer():
        return int(value)
    return float(f"{value:.4g}") if abs(value) >= 100 else round(float(value), 4)


def _metrics_table(metrics: dict[str, Any]) -> str:
    if not metrics:
        return "No metrics measured yet: run `python -m aigc eval MODEL`.\n"
    rows = [f"| {METRIC_NAMES.get(k, k)} | {v} |" for k, v in metrics.items()]
    return "| metric | value |\n| --- | --- |\n" + "\n".join(rows) + "\n"


def _hours(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 1:  # a short run from the app: "0 min" would say it took no time
        return f"{seconds:.0f} s"
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def _shares(metrics: dict[str, Any], *keys: str) -> list[str] | None:
    """The figures of `keys` as percentages, or None when any is missing (a sentence that lists
    them by position would be wrong with one left out)."""
    if not all(isinstance(metrics.get(k), (int, float)) for k in keys):
        return None
    return [f"{metrics[k]:.1%}" for k in keys]


def _measured(m: dict[str, Any], rewrites: str = "this table") -> str:
    """Where the figures come from: `python -m aigc eval` for a built-in model, the trainer for a run."""
    if m.get("measured_by") == "trainer":
        metrics = m.get("metrics", {})
        on = f", on {metrics['samples']:,} samples" if isinstance(metrics.get("samples"), (int, float)) else ""
        real = ("; the real-data figures are those of the built-in cards (the same judge on the same data)"
                if any(k.startswith("real_") for k in metrics) else "")
        return f"Measured by the trainer at the best step ({m.get('steps', 0):,}){on}{real}; the speed is this model's."
    return f"Measure again with `python -m aigc eval {m.get('name', 'MODEL')}` (this also rewrites {rewrites})."


def _training(m: dict[str, Any], rows: list[tuple[str, str]] | None = None) -> str:
    """The card's training table (`rows`, by default the steps and learning rate, then precision,
    hardware and time) and the command that trains the model again."""
    rows = rows or [("steps", f"{m['steps']:,} of batch {m.get('batch_size')}"), ("learning rate", f"{m.get('lr')}")]
    rows += [("precision", f"{m.get('precision')}"), ("hardware", f"{m.get('hardware')}"),
             ("training time", _hours(m.get("training_seconds", 0)))]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    # a model whose recipe changed while it trained says how
    retrain = f"{m['history']}\n\nThe recipe as it stands, from scratch" if m.get("history") else "Retrain it exactly"
    return f"""## Training

| | |
| --- | --- |
{table}

{retrain} (resumable: run the same command again after a stop):

```bash
{m.get('command')}
```
"""


# What a character GPT of each built-in corpus writes, and what the app does with a prompt's other characters.
CORPUS_STYLE = {
    "shakespeare": """It continues any prompt in the style of its corpus: speaker names in capitals, verse
lines, stage directions. It knows only the characters of its corpus; the app maps
typographic quotes and accents to plain ASCII and tells you what it dropped.""",
    "tang-poems": """It continues any prompt in the style of its corpus, in Simplified characters: a
`《title》author` line, then lines of verse, most of five or seven characters. It knows only the
characters of its corpus; the app drops the others from a prompt and tells you which.""",
}
_ANY_CORPUS = """It continues any prompt in the style of its corpus. It knows only the characters of its
corpus; the app drops the others from a prompt and tells you which."""


def _gpt_body(m: dict[str, Any]) -> str:
    metrics = m.get("metrics", {})
    loss = metrics.get("heldout_loss", metrics.get("val_loss_sampled"))
    ppl = metrics.get("heldout_perplexity") or (math.exp(loss) if isinstance(loss, (int, float)) else None)
    where = "" if "heldout_loss" in metrics else ", on a fixed sample of held-out windows"  # what a run's trainer measures
    headline = (f"Held-out loss **{loss} nats per character** (perplexity {ppl:.2f}){where}."
                if isinstance(loss, (int, float)) else "")
    return f"""
# `{m.get('name', 'gpt')}`: a character-level GPT-2 trained on `{m['dataset']}`

A transformers `GPT2LMHeadModel` with {m['parameters']:,} parameters, trained from scratch by
AIGC Studio on the `{m['dataset']}` corpus, one token per character. {headline}

{CORPUS_STYLE.get(m['dataset'], _ANY_CORPUS)}

## Measured

{_metrics_table(metrics)}
The held-out split is the last 5% of the corpus, never seen in training. {_measured(m)}

{_side_by_side(m) if m.get('dataset') == TEXT_PAIR_DATASET else ""}
{_training(m, [
    ("architecture", f"{m.get('n_layer')} layers, {m.get('n_head')} heads, width {m.get('n_embd')}, "
                     f"context {m.get('block_size')} characters"),
    ("tokens", f"{m.get('vocab_size')} characters (tokenizers, saved as `PreTrainedTokenizerFast`)"),
    ("steps", f"{m['steps']:,} of {m.get('batch_size')} x {m.get('block_size')} characters"),
    ("optimiser", f"AdamW, peak learning rate {m.get('lr')}, {m.get('warmup')} warm-up steps then cosine decay, "
                  f"weight decay {m.get('weight_decay')}"),
])}
## References

{GPT_REFERENCES}"""


# The two character models of the Text tab, compared on the same corpus, split and batches.
TEXT_PAIR = ("shakespeare-gpt", "shakespeare-lstm")
# A model of another corpus would sit beside two that never saw its text: its card leaves the table out.
TEXT_PAIR_DATASET = "shakespeare"


def _side_by_side(m: dict[str, Any]) -> str:
    """One table of the built-in GPT and LSTM (this card's own figures in its column), with a sample of
    each: what each costs and what it buys. A model's sample is the `sample.txt` beside its card,
    written by `python -m aigc eval`."""
    from .paths import CHECKPOINTS

    columns = []
    for name in TEXT_PAIR:
        folder = CHECKPOINTS / "text" / name
        meta = m if m.get("name") == name else (read_card(folder) if (folder / "README.md").exists() else None)
        if meta:
            sample = folder / "sample.txt"
            columns.append((name, meta, sample.read_text(encoding="utf-8") if sample.exists() else ""))
    if len(columns) < 2:
        return ""

    def cell(meta: dict[str, Any], key: str, fmt: str = "{}") -> str:
        value = meta.get("metrics", {}).get(key)
        return fmt.format(value) if isinstance(value, (int, float)) else "–"

    rows = [("parameters", [f"{meta.get('parameters', 0):,}" for _, meta, _ in columns]),
            ("training", [f"{meta.get('steps', 0):,} steps of {meta.get('batch_size')} x {meta.get('block_size')} "
                          f"characters, {_hours(meta.get('training_seconds', 0))} on {meta.get('hardware')}"
                          for _, meta, _ in columns]),
            ("held-out loss (nats/char)", [cell(meta, "heldout_loss") for _, meta, _ in columns]),
            ("generation, batch 1 (tokens/s)", [cell(meta, "tokens_per_s", "{:.0f}") for _, meta, _ in columns]),
            ("time to first token (ms)", [cell(meta, "first_token_ms", "{:.1f}") for _, meta, _ in columns]),
            ("sample (`ROMEO.` then 160 characters, seed 0, temperature 0.8)", [" / ".join(line.strip() for line in text.strip().splitlines() if line.strip())
                                                  .replace("|", "\\|") or "–" for _, _, text in columns])]
    table = "\n".join(f"| {what} | " + " | ".join(values) + " |" for what, values in rows)
    names = " | ".join(f"`{name}`" for name, _, _ in columns)
    return f"""## The GPT and the LSTM side by side

The same characters, held-out split, batches and optimiser; a Transformer attends to every earlier
character of its window at once, an LSTM carries one state from character to character.
{_how_far(*(meta for _, meta, _ in columns))}

| | {names} |
| --- | --- | --- |
{table}

Training times are wall-clock on the hardware named (a run on one thread may have shared the machine
with another run); speeds are measured by `python -m aigc eval` on this project's 2-core machine.
"""


def _how_far(gpt: dict[str, Any], lstm: dict[str, Any]) -> str:
    """The LSTM against the GPT in one sentence: loss, and what it costs (parameters, time, speed)."""
    a, b = gpt.get("metrics", {}), lstm.get("metrics", {})
    if not all(isinstance(x.get(k), (int, float)) for x in (a, b) for k in ("heldout_loss", "tokens_per_s")):
        return ""
    gap = b["heldout_loss"] - a["heldout_loss"]
    return (f"The LSTM's held-out loss is {abs(gap):.3f} nats per character {'above' if gap > 0 else 'below'} the GPT's, "
            f"with {lstm.get('parameters', 0) / max(1, gpt.get('parameters', 1)):.2f}x its parameters and "
            f"{lstm.get('training_seconds', 0) / max(1, gpt.get('training_seconds', 1)):.2f}x its training time; "
            f"it writes {b['tokens_per_s'] / a['tokens_per_s']:.2f}x as many characters a second.")


def _lstm_body(m: dict[str, Any]) -> str:
    metrics = m.get("metrics", {})
    loss = metrics.get("heldout_loss", metrics.get("val_loss_sampled"))
    where = "" if "heldout_loss" in metrics else ", on a fixed sample of held-out windows"
    headline = f"Held-out loss **{loss} nats per character**{where}." if isinstance(loss, (int, float)) else ""
    return f"""
# `{m.get('name', 'lstm')}`: a character-level LSTM trained on `{m['dataset']}`

A {m.get('layers')}-layer LSTM (PyTorch `nn.LSTM`, {m.get('hidden')} units a layer, characters embedded in
{m.get('n_embd')} dimensions) with {m['parameters']:,} parameters, trained from scratch by AIGC Studio on
the `{m['dataset']}` corpus with the GPT's data, split and optimiser. {headline}

It writes one character at a time, carrying its state from each character to the next: the app
decodes it with that state as its cache, so each new character costs one step of the network
whatever the length of the text so far.

## Measured

{_metrics_table(metrics)}
The held-out split is the last 5% of the corpus, never seen in training, scored in windows of
{m.get('block_size')} characters with the state starting empty at each, as the GPT is scored. {_measured(m)}

{_side_by_side(m) if m.get('dataset') == TEXT_PAIR_DATASET else ""}
{_training(m, [
    ("architecture", f"{m.get('layers')} layers of {m.get('hidden')} units, embeddings of {m.get('n_embd')}"),
    ("tokens", f"{m.get('vocab_size')} characters (the GPT's tokenizer)"),
    ("steps", f"{m['steps']:,} of {m.get('batch_size')} x {m.get('block_size')} characters (the state starts empty at each window)"),
    ("optimiser", f"AdamW, peak learning rate {m.get('lr')}, {m.get('warmup')} warm-up steps then cosine decay, "
                  f"gradients clipped to norm 1"),
])}
## References

- S. Hochreiter and J. Schmidhuber, *Long Short-Term Memory*, Neural Computation 1997.
- A. Graves, *Generating Sequences With Recurrent Neural Networks*, 2013: character-level LSTM language models.
- A. Karpathy, *The Unreasonable Effectiveness of Recurrent Neural Networks*, 2015 (char-rnn on Shakespeare).
"""


def _bert_body(m: dict[str, Any]) -> str:
    metrics = m.get("metrics", {})
    shares = _shares(metrics, "top1", "top5", "bigram_top1", "unigram_top1")
    blanks = metrics.get("blanks")
    headline = (f"On {blanks:,.0f} blanks of held-out lines it names the missing word first **{shares[0]}** of the time "
                f"(among its first five: {shares[1]}), against {shares[2]} for a bigram and {shares[3]} for a "
                "unigram baseline choosing among the same words." if shares and blanks else "")
    return f"""
# `{m.get('name', 'bert')}`: a BERT-style masked language model trained on `{m['dataset']}`

A transformers `BertForMaskedLM` with {m['parameters']:,} parameters ({m.get('n_layer')} layers,
{m.get('n_head')} heads, width {m.get('n_embd')}), trained from scratch by AIGC Studio on the
`{m['dataset']}` corpus to fill in masked words from both sides of a blank. {headline}

In the app's Text tab (Edit) it offers candidates for each `[MASK]` with their probabilities, and
rewrites a passage word by word. It reads lower-cased English WordPiece tokens learned from its corpus.

## Measured

{_metrics_table(metrics)}
A blank is one word of a held-out line (the last 5% of the corpus, never seen in training), masked
with all of its WordPiece tokens. The model scores every word of the baselines' vocabulary by the
log-probability of its tokens; the unigram baseline always answers the most frequent words, the
bigram baseline the words that best fit between the word before the blank and the word after it
(word-pair counts of the training text, smoothed by word frequencies). {_measured(m)}

{_training(m, [
    ("architecture", f"{m.get('n_layer')} layers, {m.get('n_head')} heads, width {m.get('n_embd')}, "
                     f"passages of at most {m.get('max_len')} tokens (whole lines)"),
    ("vocabulary", f"{m.get('vocab_size'):,} uncased WordPiece tokens learned by `tokenizers` from the training text"),
    ("masking", f"whole words, {m.get('mask_p', 0.15):.0%} of them, every token of a chosen word replaced by [MASK]"),
    ("steps", f"{m['steps']:,} of {m.get('batch_size')} passages"),
    ("optimiser", f"AdamW, peak learning rate {m.get('lr')}, {m.get('warmup')} warm-up steps then cosine decay, "
                  f"weight decay {m.get('weight_decay')}"),
])}
## References

- J. Devlin et al., *BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding*, NAACL 2019
  (masked language modelling; whole-word masking from the authors' later release).
- Y. Wu et al., *Google's Neural Machine Translation System*, 2016 (WordPiece).
- A. Wettig, T. Gao, Z. Zhong, D. Chen, EACL 2023: masking more than 15% of the words trains a masked model faster.
- I. Loshchilov and F. Hutter, *Decoupled Weight Decay Regularization* (AdamW), ICLR 2019.
"""


IMAGE_KINDS = {
    "dcgan": ("a DCGAN", """A generator of transposed convolutions (noise 100 -> 256 x 4 x 4 -> 128 x 8 x 8 -> 64 x 16 x 16
-> 1 x 32 x 32, batch norm, ReLU, tanh) against a convolutional LeakyReLU discriminator,
trained with the non-saturating GAN loss. Half of the images the discriminator sees, real and
fake alike, are shifted and have a square cut out (differentiable augmentation), so it cannot
memorise a small training set. Samples come from an exponential moving average of the
generator's weights; the checkpoint kept is the step whose samples scored best."""),
    "vae": ("a convolutional VAE", """An encoder to a Gaussian posterior over an 8-dimensional latent space and a decoder
back to pixels, trained on reconstruction plus KL divergence with the reparameterisation
trick. Samples decode latents drawn from the standard normal prior (the decoder's mean, not
a noisy draw), so they are smoother than real digits: the price of a likelihood model."""),
    "diffusion": ("a diffusion model", """A diffusers `UNet2DModel` trained to predict the noise added under a cosine schedule
(`DDPMScheduler`, 1,000 steps), saved as a `DDPMPipeline`. Sampling uses DDIM with 25 "trailing"
steps by default (DPM-Solver++ and DDPM are offered too); the weights are an exponential moving average."""),
}

IMAGE_REFERENCES = {
    "dcgan": """- A. Radford, L. Metz, S. Chintala, *Unsupervised Representation Learning with Deep
  Convolutional GANs*, ICLR 2016: architecture, N(0, 0.02) initialisation, Adam 2e-4 with beta1 0.5.
- I. Goodfellow et al., *Generative Adversarial Nets*, NeurIPS 2014: the non-saturating loss.
- T. Karras et al., *Progressive Growing of GANs*, ICLR 2018: the moving average of generator weights.
- S. Zhao et al., *Differentiable Augmentation for Data-Efficient GAN Training*, NeurIPS 2020.
""",
    "vae": """- D. Kingma, M. Welling, *Auto-Encoding Variational Bayes*, ICLR 2014.
- The decoder's likelihood is a Gaussian with a fixed standard deviation (0.4 in [-1, 1] pixel
  units), which weighs reconstruction against the KL term.
""",
    "diffusion": """- J. Ho, A. Jain, P. Abbeel, *Denoising Diffusion Probabilistic Models*, NeurIPS 2020.
- A. Nichol, P. Dhariwal, *Improved Denoising Diffusion Probabilistic Models*, ICML 2021 (cosine schedule).
- J. Song, C. Meng, S. Ermon, *Denoising Diffusion Implicit Models*, ICLR 2021: the default sampler.
- S. Lin et al., *Common Diffusion Noise Schedules and Sample Steps are Flawed*, WACV 2024 ("trailing" steps).
- C. Lu et al., *DPM-Solver++*, 2022: the other fast sampler.
""",
}


def _image_body(m: dict[str, Any]) -> str:
    what, how = IMAGE_KINDS[m["kind"]]
    metrics = m.get("metrics", {})
    headline, judge = "", "No judge scores these pictures (the digit judge knows `digits` only)."
    if "confident_digits" in metrics:
        real = ""
        if "real_confident_digits" in metrics and "real_classes_covered" in metrics:
            real = f" (real digits: {metrics['real_confident_digits']:.0%}, {int(metrics['real_classes_covered'])})"
        headline = (f"Of {int(metrics.get('samples', 1000)):,} samples, the independent digit classifier calls "
                    f"**{metrics['confident_digits']:.0%} confidently a digit** and finds "
                    f"**{int(metrics['classes_covered'])} of 10 classes**{real}.")
        judge = ("The judge is `checkpoints/evaluation/digit-classifier`, trained only on the training split of\n"
                 "`digits` with an extra \"not a digit\" class; the Frechet distance uses its features against the\n"
                 "held-out split.")
    return f"""
# `{m.get('name')}`: {what} trained on `{m['dataset']}`

{how}

{m.get('parameters', 0):,} parameters, trained from scratch by AIGC Studio. {headline}

![samples](samples.png)

## Measured

{_metrics_table(metrics)}
{judge} {_measured(m)}

{_training(m)}
## References

{IMAGE_REFERENCES[m['kind']]}"""


CONDITIONAL_KINDS = {
    "cgan": ("a conditional GAN", """The DCGAN of `dcgan-digits` with a condition: a learned 32-dimensional embedding of the
label, joined to the noise at the generator's input and tiled over the image as 8 extra input
channels of the discriminator. The discriminator is matching-aware: besides real and generated
images it sees real images with a wrong label and learns to call them fake, so the generator
is pushed to draw the requested digit, not just any digit. Differentiable augmentation, an EMA
of the generator and a best step chosen by the judge, as for the DCGAN.""",
             """- M. Mirza, S. Osindero, *Conditional Generative Adversarial Nets*, 2014.
- S. Reed et al., *Generative Adversarial Text to Image Synthesis*, ICML 2016: the matching-aware discriminator.
- A. Radford, L. Metz, S. Chintala, *Unsupervised Representation Learning with Deep Convolutional GANs*, ICLR 2016.
- S. Zhao et al., *Differentiable Augmentation for Data-Efficient GAN Training*, NeurIPS 2020.
"""),
    "text2img": ("a caption-to-image GAN", """A conditional DCGAN whose condition is a caption. Each network has its own small caption
encoder (word and position embeddings, one Transformer encoder layer, the mean over words; an
empty caption has a learned vector of its own), trained with it from scratch. Captions come from
the `shapes` attributes, and each attribute is dropped with probability 0.3 while training, so a
partial caption ("red", "large star") means "any value for the rest". The discriminator is
matching-aware: real images with one attribute of the caption changed count as fake, and it
has heads that name the color, shape, size and position of real images (AC-GAN); the generator
is trained to make those heads name what its caption asked for. A word outside the vocabulary
below is refused with the list of known words, never guessed. The app completes a partial caption
before the generator reads it: each attribute the caption leaves out is drawn at random from
the seed, as the training data draws it. The generator follows partial captions by itself too,
but less well; the table gives both ("no completion").""",
                 """- S. Reed et al., *Generative Adversarial Text to Image Synthesis*, ICML 2016: caption-conditioned GAN, matching-aware discriminator.
- A. Odena, C. Olah, J. Shlens, *Conditional Image Synthesis with Auxiliary Classifier GANs*, ICML 2017: the attribute heads.
- A. Vaswani et al., *Attention Is All You Need*, NeurIPS 2017: the encoder layer.
- A. Radford, L. Metz, S. Chintala, *Unsupervised Representation Learning with Deep Convolutional GANs*, ICLR 2016.
"""),
    "guided-diffusion": ("a class-conditional diffusion model", """A diffusers `UNet2DModel` with a class embedding (11 classes: the ten digits and "no label"),
trained to predict noise under a cosine schedule; the label is replaced by "no label" for 10% of
the training images, so that the same network also gives the unconditional estimate.
Sampling uses classifier-free guidance, eps = eps(no label) + w (eps(label) - eps(no label)),
with DDIM and 25 "trailing" steps; the guidance scale w is a control of the app (1 turns it off).""",
                         """- J. Ho, T. Salimans, *Classifier-Free Diffusion Guidance*, 2021.
- J. Ho, A. Jain, P. Abbeel, *Denoising Diffusion Probabilistic Models*, NeurIPS 2020.
- A. Nichol, P. Dhariwal, *Improved Denoising Diffusion Probabilistic Models*, ICML 2021 (cosine schedule).
- J. Song, C. Meng, S. Ermon, *Denoising Diffusion Implicit Models*, ICLR 2021: the sampler.
"""),
    "text2video": ("a caption-to-clip GAN", """A generator of whole 16-frame clips at 32x32, factorised in time: the clip's noise and its
caption vector (a small caption encoder trained with the GAN: word and position embeddings, one
Transformer encoder layer, the mean over words) are shared by every frame, and each frame adds
a learned embedding of its time step; a small MLP mixes them and the DCGAN generator draws the
frame. Color, shape, size and background can only come from what all frames share, which
discourages flicker (the table measures how much is left); where the object is at frame t
comes from the caption's motion and t. The discriminator reads the whole clip with
3D convolutions (time, height, width) and the caption tiled as extra channels; it is
matching-aware (real clips with one attribute of their caption changed, the motion included,
count as fake) and has heads that name color, shape, size, start position and motion (AC-GAN),
which the generator learns to satisfy. A second discriminator judges four random frames of each
clip alone, with the caption (the 2D one of `text2img`): the 3D kernels cover the first and last
frames once and the others twice, and without it those two frames stayed speckled, a flash where
the clip loops. A real clip shows the same colors in the same amounts in every frame, only in
other places, so the generator also pays for how far each frame's sorted pixel values lie from
their mean over the clip (per channel, the squared 1-D Wasserstein distance from the frame's
values to their barycenter over the frames; weight 4,000; about 0.0003 for real clips). That
costs a drifting background or an object whose color or size flickers, not motion. Captions
drop attributes at random while training, so partial captions ("a red shape moving left",
"bouncing") work.""",
                   """- M. Saito, E. Matsumoto, S. Saito, *Temporal Generative Adversarial Nets*, ICCV 2017: a clip generator factorised in time.
- S. Tulyakov et al., *MoCoGAN: Decomposing Motion and Content for Video Generation*, CVPR 2018: content shared by all frames.
- C. Vondrick, H. Pirsiavash, A. Torralba, *Generating Videos with Scene Dynamics*, NeurIPS 2016: 3D convolutional discriminator.
- S. Reed et al., *Generative Adversarial Text to Image Synthesis*, ICML 2016: matching-aware discriminator.
- A. Odena, C. Olah, J. Shlens, *Conditional Image Synthesis with Auxiliary Classifier GANs*, ICML 2017.
"""),
}


def _conditional_body(m: dict[str, Any]) -> str:
    what, how, references = CONDITIONAL_KINDS[m["kind"]]
    metrics = m.get("metrics", {})
    name = m.get("name", "MODEL")
    headline, judges = "", ""
    samples = int(metrics.get("samples", 1000))
    if "label_accuracy" in metrics:
        asides = [f"{words}: {metrics[k]:.1%}" for k, words in (("worst_label_accuracy", "the label drawn worst"),
                                                                  ("real_label_accuracy", "the classifier on real digits"))
                  if k in metrics]
        headline = (f"The independent digit classifier reads **{metrics['label_accuracy']:.1%} of {samples:,} "
                    f"samples as the requested digit**" + (f" ({'; '.join(asides)})" if asides else "") + ".")
        judges = ("The judge is `checkpoints/evaluation/digit-classifier`, trained only on the training split of `digits`; "
                  "samples ask for each label in turn, seeds 0, 1, 2, ...")
        usage = f'aigc.generate_conditional("7", model="{name}")'
    elif "motion_accuracy" in metrics:
        headline = (f"Of {int(metrics.get('samples', 500)):,} clips, **{metrics['motion_accuracy']:.1%} move the way the caption says** "
                    f"and **{metrics['color_accuracy']:.1%} have the named color**")
        steady = _shares(metrics, "color_consistency", "worst_frame_color", "area_variation")
        if steady:
            headline += (f"; the color holds in {steady[0]} of frames ({steady[1]} at the frame where it holds least) "
                         f"and the object's area varies by {steady[2]} over a clip")
        real = _shares(metrics, "real_motion_accuracy", "real_color_accuracy", "real_color_consistency", "real_area_variation")
        headline += (f" (real clips: {', '.join(real)})." if real and steady else ".")
        judges = ("The judge (`aigc/evaluation/motion.py`) tracks the foreground's centre frame by frame and reads the motion "
                  "from its path; the color is the dominant foreground color (as for `text2img-shapes`). Half the captions "
                  "name every attribute, half about half of them but always the motion.")
        usage = f'aigc.generate_video("a large red star moving left", model="{name}")   # an MP4 path'
    elif "color_accuracy" in metrics:
        partial = _shares(metrics, "partial_color_accuracy", "partial_shape_accuracy", "partial_position_accuracy")
        headline = (f"Asked for a color, a shape and a position, it draws **the named color in {metrics['color_accuracy']:.1%}**, "
                    f"**the named shape in {metrics['shape_accuracy']:.1%}** and **the named position in "
                    f"{metrics['position_accuracy']:.1%}** of {samples:,} samples"
                    + (f"; partial captions score {partial[0]}, {partial[1]} and {partial[2]}." if partial else "."))
        judges = ("Color and position are read from the pixels (the dominant foreground color among the palette, the "
                  "foreground centre in a 3x3 grid); the shape by `checkpoints/evaluation/shape-classifier`, trained on "
                  "rendered shapes only. Half the captions name every attribute, half about half of them.")
        usage = f'aigc.generate_conditional("a large red star in the top right", model="{name}")'
    else:
        usage = f'aigc.generate_conditional("...", model="{name}")'
    vocabulary = ""
    if m.get("vocabulary"):
        vocabulary = (f"\nWords it knows: {', '.join(m['vocabulary'])}; it also accepts {', '.join(m.get('filler', []))}.\n")
    return f"""
# `{name}`: {what} trained on `{m['dataset']}`

{how}
{vocabulary}
{m.get('parameters', 0):,} parameters, trained from scratch by AIGC Studio. {headline}

```python
import aigc
{"path" if "generate_video" in usage else "images"} = {usage}
```

![samples](samples.png)

## Measured

{_metrics_table(metrics)}
{judges} {_measured(m, "this table and the picture")}

{_training(m)}
## References

{references}"""


AUDIO_KINDS = {
    "mel-diffusion": ("a diffusion model of log-mel spectrograms", """Sound drawn as a picture of its spectrogram, then heard. The denoiser is {net}. It draws a
64x64 log-mel spectrogram (8 kHz, 256-sample windows, hop 128) from pure noise in {sampler},
and Griffin-Lim turns it into a waveform: the power spectrum by least
squares through the mel filters (torchaudio's `InverseMelScale`), the phase by 32 iterations of
`GriffinLim`. Trained with v-prediction under a cosine schedule; the
condition (a digit, or a caption's attributes) is dropped for 10% of the clips, for classifier-free
guidance.""", """- J. Ho, A. Jain, P. Abbeel, *Denoising Diffusion Probabilistic Models*, NeurIPS 2020.
- T. Salimans, J. Ho, *Progressive Distillation for Fast Sampling of Diffusion Models*, ICLR 2022: v-prediction.
- J. Ho, T. Salimans, *Classifier-Free Diffusion Guidance*, 2021.
- D. Griffin, J. Lim, *Signal Estimation from Modified Short-Time Fourier Transform*, IEEE TASSP 1984.
- V. Popov et al., *Grad-TTS: A Diffusion Probabilistic Model for Text-to-Speech*, ICML 2021: diffusion on mel spectrograms.
- O. Ronneberger, P. Fischer, T. Brox, *U-Net*, MICCAI 2015.
"""),
    "wavenet": ("a WaveNet", """A WaveNet writes the waveform one 8-bit mu-law sample at a time: stacks of dilated causal
convolutions with gated activations and residual and skip connections, a 256-way softmax over the
next sample. It is conditioned locally on a log-mel spectrogram (each sample on the frame it falls in)
and globally on the digit: the app draws the spectrogram with the spectrogram diffusion model its
config names, then the WaveNet writes the sound from it, as a neural vocoder, in place of Griffin-Lim.
Generation keeps a queue of past activations per layer, so each new sample costs one step per layer.""",
                """- A. van den Oord et al., *WaveNet: A Generative Model for Raw Audio*, 2016.
- J. Shen et al., *Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions*, ICASSP 2018.
- T. Le Paine et al., *Fast Wavenet Generation Algorithm*, 2016.
"""),
}


SOLVER_NAMES = {"ddim": "DDIM", "dpm++": "DPM-Solver++", "ddpm": "DDPM"}  # a config's `sampler`, as people write it

MEL_NETS = {  # the denoiser of a spectrogram diffusion model, by its config's `net`
    "1d": """a one-dimensional U-Net over time (the 64 mel bands are its
channels; three resolutions, FiLM conditioning, one self-attention layer at the coarsest)""",
    "2d": """a two-dimensional U-Net (diffusers' `UNet2DModel`) that reads the
spectrogram as a picture, its 2x2 neighbourhoods folded into four channels (pixel unshuffle): three
resolutions of 32x32 and below, self-attention at the coarsest, the condition's embedding added to the
timestep's""",
}


def _audio_body(m: dict[str, Any]) -> str:
    what, how, references = AUDIO_KINDS[m["kind"]]
    if m["kind"] == "mel-diffusion":
        sampler = SOLVER_NAMES[m.get("sampler", "ddim")]
        how = how.format(net=MEL_NETS[m.get("net", "1d")], sampler=f"{m.get('sample_steps', 16)} {sampler} steps")
    metrics, name = m.get("metrics", {}), m.get("name", "MODEL")
    samples = int(metrics.get("samples", 200))
    if "digit_accuracy" in metrics:
        real = (f" (real clips of the same voices: {metrics['real_digit_accuracy']:.1%})"
                if "real_digit_accuracy" in metrics else "")
        headline = (f"The spoken-digit judge hears **the digit asked for in {metrics['digit_accuracy']:.1%} of {samples:,} "
                    f"clips**{real}.")
        judges = ("The judge is `checkpoints/evaluation/spoken-digit-classifier`, trained only on voices that no generator "
                  "learned from; clips ask for each digit in turn.")
        usage = f'aigc.generate_audio("3 1 4", model="{name}")'
    elif "kind_agreement" in metrics:
        headline = (f"Asked for a sound, it makes **the named kind in {metrics['kind_agreement']:.1%}** of {samples:,} clips"
                    + (f", the named pitch in {metrics['pitch_agreement']:.1%}" if "pitch_agreement" in metrics else "")
                    + (f" and the named direction in {metrics['direction_agreement']:.1%}" if "direction_agreement" in metrics else "")
                    + ".")
        judges = ("The judge (`aigc/evaluation/sound_effects.py`) measures pitch, length and the pitch's direction, and "
                  "names the kind with `checkpoints/evaluation/sfx-classifier`, trained on clips of other seeds.")
        usage = f'aigc.generate_audio("a long high rising chirp", model="{name}")'
    else:
        headline, judges, usage = "", "", f'aigc.generate_audio("7", model="{name}")'
    return f"""
# `{name}`: {what} trained on `{m['dataset']}`

{how}

{m.get('parameters', 0):,} parameters, trained from scratch by AIGC Studio. {headline}

```python
import aigc
audio = {usage}   # .clips (N, samples), .rate
```

![spectrograms of samples](samples.png) ([listen](samples.wav))

## Measured

{_metrics_table(metrics)}
{judges} {_measured(m, "this table and the samples")}

{_training(m)}
## References

{references}"""


EDIT_KINDS = {
    "restorer": ("a picture restorer", """One small convolutional network removes Gaussian noise, salt-and-pepper specks and JPEG blocks,
and fills painted holes, without being told which (blind). It learns the damage, not the picture
(residual learning, as DnCNN), on the picture folded into 2x2 sub-images with the hole's mask beside
them (as FFDNet), through a U-Net of three scales whose coarsest has dilated convolutions, so that a
hole's filling sees well beyond the hole; a hole is first filled smoothly from its edges by biharmonic
inpainting (scikit-image's), and the network adds what that misses. Trained
on random patches of photographs (never the three held-out ones) damaged at random: Gaussian noise of
sigma 10 to 50, holes, specks and JPEG.""",
                 """- K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, *Beyond a Gaussian Denoiser: Residual Learning of Deep CNN for Image Denoising* (DnCNN), IEEE TIP 2017.
- K. Zhang, W. Zuo, L. Zhang, *FFDNet: Toward a Fast and Flexible Solution for CNN-Based Image Denoising*, IEEE TIP 2018.
- O. Ronneberger, P. Fischer, T. Brox, *U-Net*, MICCAI 2015.
- H. Zhao, O. Gallo, I. Frosio, J. Kautz, *Loss Functions for Image Restoration with Neural Networks*, IEEE TCI 2017: L1.
- S. Damelin, N. Hoang, *On Surface Completion and Image Inpainting by Biharmonic Functions*, 2018: the holes' baseline.
"""),
    "upscaler": ("a sub-pixel upscaler (ESPCN)", """Every convolution runs at the small picture's size, and the last one writes the r x r sub-pixels of
each pixel, which a pixel shuffle lays out (ESPCN). It learns what bicubic interpolation misses (the
residual over bicubic, as VDSR), so it starts as bicubic and can only improve on it. Trained on random
patches of photographs (never the three held-out ones), each shrunk by a filter drawn at random
(bicubic, Lanczos, bilinear, box): pictures users upload were shrunk by whatever tool made them.""",
                 """- W. Shi et al., *Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network* (ESPCN), CVPR 2016.
- J. Kim, J. K. Lee, K. M. Lee, *Accurate Image Super-Resolution Using Very Deep Convolutional Networks* (VDSR), CVPR 2016: the residual over bicubic.
- C. Dong, C. C. Loy, K. He, X. Tang, *Image Super-Resolution Using Deep Convolutional Networks* (SRCNN), TPAMI 2016.
"""),
}


def _edit_body(m: dict[str, Any]) -> str:
    what, how, references = EDIT_KINDS[m["kind"]]
    metrics, name = m.get("metrics", {}), m.get("name", "MODEL")
    speed = f" A 512x512 picture takes {metrics['ms_512']:.0f} ms here." if "ms_512" in metrics else ""
    if "noise25_psnr" in metrics:
        headline = (f"On the three held-out photos with Gaussian noise of sigma 25 it gives back **{metrics['noise25_psnr']:.2f} dB** "
                    f"PSNR from {metrics['noise25_psnr_damaged']:.2f} dB"
                    + (f" (a 3x3 median filter: {metrics['noise25_psnr_median']:.2f} dB)" if "noise25_psnr_median" in metrics else "")
                    + (f"; inside painted holes **{metrics['hole_psnr']:.2f} dB** (biharmonic inpainting: "
                       f"{metrics['hole_psnr_biharmonic']:.2f} dB)" if "hole_psnr_biharmonic" in metrics else "") + f".{speed}")
        usage = 'done = aigc.edit_image("cat", "restore", damage="noise", amount=25)   # PNG paths and PSNR/SSIM'
    else:
        s = int(m.get("scale", 2))
        key = next((k for k in metrics if k.endswith("_psnr") and k.startswith("x")), f"x{s}_psnr")
        s = int(key[1:key.index("_")])
        headline = (f"On the three held-out photos shrunk {s} times, it gives back **{metrics.get(key, 0):.2f} dB** PSNR and SSIM "
                    f"**{metrics.get(f'x{s}_ssim', 0):.3f}**; bicubic interpolation {metrics.get(f'x{s}_psnr_bicubic', 0):.2f} dB and "
                    f"{metrics.get(f'x{s}_ssim_bicubic', 0):.3f}.{speed}")
        usage = f'done = aigc.edit_image("cat", "upscale", scale={s}, damage="shrink")   # shrink it, then enlarge it back'
    return f"""
# `{name}`: {what} trained on `{m['dataset']}`

{how}

{m.get('parameters', 0):,} parameters, trained from scratch by AIGC Studio. {headline}

```python
import aigc
{usage}
```

![samples](samples.png)

## Measured

{_metrics_table(metrics)}
The photos are scikit-image's coffee and cat and scikit-learn's flower, whole, which no tool learned from;
PSNR and SSIM against the undamaged photo (`aigc/evaluation/edit.py`; holes: PSNR inside the hole only).
The picture shows the damaged (or enlarged by bicubic) photo, the tool's answer and the original. {_measured(m, "this table and the picture")}

{_training(m)}
## References

{references}"""


def _generic_body(m: dict[str, Any]) -> str:
    return f"""
# `{m.get('name', m.get('kind', 'model'))}` trained on `{m.get('dataset')}`

## Measured

{_metrics_table(m.get('metrics', {}))}
## Retrain

```bash
{m.get('command')}
```
"""
