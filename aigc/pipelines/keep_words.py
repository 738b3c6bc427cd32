"""Words a rewrite leaves alone, given as a user types them ("sweet, prince"), turned into the word
indices `aigc.pipelines.fill.rewrite` locks. Shared by the command line and the app."""

from __future__ import annotations

from .fill import WORD


def kept_words(keep: str | None) -> set[str]:
    """The words of `keep` (separated by spaces, commas or any other non-letter), casefolded."""
    return {w.casefold() for w in WORD.findall(keep or "")}


def locked_indices(text: str, keep: str | None) -> set[int]:
    """Indices, among the words of `text` as `rewrite` counts them, of every occurrence of a kept word,
    whatever its case."""
    kept = kept_words(keep)
    return {i for i, word in enumerate(WORD.finditer(text)) if word.group().casefold() in kept}
