"""`python -m aigc eval` for a masked language model: how often it fills a held-out blank with the word
that was there (aigc.evaluation.masked_words, beside the unigram and bigram baselines on the same
blanks), and how long one blank takes through the pipeline the app uses."""

from __future__ import annotations

EVAL_BLANKS = 2000
SPEED_PASSAGE = "Good [MASK], sweet prince."


def evaluate_fill_model(name: str, blanks: int = EVAL_BLANKS, seed: int = 0, dataset: str | None = None,
                        runs: int = 5) -> dict[str, float]:
    """Top-1 and top-5 word accuracy on `blanks` blanks of the held-out split of the corpus the model
    learned (`dataset`, else the one its card names), the baselines' on the same blanks, and `fill_ms`."""
    from ..catalog import card_of
    from ..data.text import load_corpus, split_corpus
    from ..errors import AigcError
    from ..registry import load
    from .masked_words import judge

    fm = load(name, "fill")
    dataset = dataset or card_of(fm.info).get("dataset")
    if not dataset:
        raise AigcError(f"'{name}' does not name its training dataset in its card, so it has no held-out blanks.")
    train, held_out = split_corpus(load_corpus(dataset))
    # The trainer picks its best step on blanks drawn with seed 1; drawing mostly other blanks keeps
    # that choice from flattering the figure.
    figures = judge(fm.pipe.model, fm.tokenizer, train, held_out, count=blanks, seed=seed)
    return {**figures, "fill_ms": fill_ms(name, runs)}


def fill_ms(name: str, runs: int = 5, passage: str = SPEED_PASSAGE) -> float:
    """Median milliseconds to fill the one blank of `passage` (batch 1, five candidates), after a warm-up."""
    from ..pipelines.fill import fill_mask
    from ..timing import median_seconds

    return 1000 * median_seconds(lambda: fill_mask(passage, name, top_k=5), runs)
