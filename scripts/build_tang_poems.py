"""Rebuild assets/tang-poems.txt.xz from the npm package `chinese-poetry@2.0.1`.

    python scripts/build_tang_poems.py                      # runs `npm pack` in a temporary folder
    python scripts/build_tang_poems.py chinese-poetry-2.0.1.tgz

Needs OpenCC (`pip install opencc`), for this script only: the app reads the built asset.

The package (MIT, (c) 2016 JackeyGao) compiles the Complete Tang Poems and its supplements
in Traditional characters; the poems themselves are public domain. We read the poems'
titles, authors and lines (`quantangshi/poet.tang.*.json`), never the biographies, notes or
tags, which are modern writing. The supplements' editors also wrote notes inside the lines
(variant readings, sources, commentary in parentheses) and marked missing or unreadable
characters; we cut the notes and leave out every poem with a gap, so that a model learns the
verse, not the editing.

Poems keep the order of the files (by number), so the held-out 5% is the last files' poems.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "assets" / "tang-poems.txt.xz"
PACKAGE = "chinese-poetry@2.0.1"
# The registry's sha1 of the 2.0.1 tarball: another build of the corpus would be another corpus.
SHASUM = "b6e7e60d0accac7c723d066a5c360549aab8299d"
WORK_SEPARATOR = "\n\n\n"  # aigc.data.text.WORK_SEPARATOR; not imported, so this runs without torch
MAX_BYTES = 6_000_000

# An editor's note: "（一作「叉」）", "（見《輿地紀勝》卷二五。）", often over several lines.
NOTE = re.compile(r"（[^（）]*）")
# "[郢]" is the editors' correction of the character they put in a note beside it; "[一]" is a
# footnote's number and "[□□]" a gap, which the check below refuses.
CORRECTION = re.compile(r"\[([^\[\]□一二三四五六七八九十○]+)\]")
FOOTNOTE = re.compile(r"〖\d+〗")  # a note's number on a title or a name; the note itself is elsewhere
# Left over after the notes are cut, any of these means a gap, markup or modern prose:
# squares and circles for missing characters (囗, a radical, always stands for □ in this
# compilation), {composed|characters}, ideographic description sequences, private-use code points,
# footnote brackets, Latin letters and digits.
BAD = re.compile(r"[□■○●◎△▲☐〇囗�{}\[\]［］〖〗（）()⿰-⿻\ue000-\uf8ffA-Za-z0-9０-９Ａ-Ｚａ-ｚ/|=\-_…*@#%&<>〈〉]")
# A book cited by chapter ("《五代會要》七", "《廟樂》曰") is the editors' prose left outside a note;
# a poem names a tune or a book without a chapter ("歌聲猶按《後庭花》"), and keeps it.
CITATION = re.compile(r"》(?:卷|曰|[一二三四五六七八九十百○])")
# Quotation marks as mainland editions print them.
QUOTES = str.maketrans({"「": "“", "」": "”", "『": "‘", "』": "’"})
PUNCTUATION = set("，。？！、；：“”‘’·")


def without_notes(text: str) -> str:
    while True:
        cut = NOTE.sub("", text)
        if cut == text:
            return text
        text = cut


def clean_title(title: str) -> str | None:
    # After a tab comes the poem's own subtitle ("七德舞\t美撥亂，陳王業也"), not its name.
    title = without_notes(title.split("\t")[0])
    title = FOOTNOTE.sub("", CORRECTION.sub(r"\1", title)).replace("《", "").replace("》", "")
    # "帝京篇十首 一" is the first of ten: printed "帝京篇十首·一".
    title = "·".join(title.split())
    # In "詩三百三首·一三○" the circle is a zero, not a gap.
    title = re.sub(r"(?<=[一二三四五六七八九十百])○|○(?=[一二三四五六七八九十])", "〇", title)
    if not title or BAD.search(title.replace("〇", "")) or re.search("[“”「」『』]", title):
        return None
    return title


def clean_poem(poem: dict) -> tuple[str, str, list[str]] | None:
    """(title, author, lines) in Traditional characters, or None for a poem to leave out."""
    title = clean_title(poem.get("title") or "")
    author = FOOTNOTE.sub("", CORRECTION.sub(r"\1", "".join((poem.get("author") or "").split())))
    if title is None or not author or BAD.search(author) or re.search("[《》]", author):
        return None
    # Notes run across the source's lines, so they are cut from the poem as a whole.
    body = without_notes("\n".join(poem.get("paragraphs") or []))
    # A note that opens and never closes runs to the end of the poem (its source, mostly).
    body = body.split("（")[0] if "）" not in body else body
    body = CORRECTION.sub(r"\1", body)
    if BAD.search(body) or CITATION.search(body):
        return None
    lines = []
    for line in body.split("\n"):
        line = "".join(line.split()).replace("《", "").replace("》", "")
        if line and not set(line) <= PUNCTUATION | set("「」『』"):
            lines.append(line)
    if not lines:
        return None
    return title, author, lines


def read_package(tarball: Path) -> list[dict]:
    digest = hashlib.sha1(tarball.read_bytes()).hexdigest()
    if digest != SHASUM:
        sys.exit(f"{tarball} is not {PACKAGE} (sha1 {digest}, expected {SHASUM}).")
    poems = []
    with tarfile.open(tarball) as tar:
        pattern = re.compile(r"package/dist/quantangshi/poet\.tang\.\d+\.json")
        members = [m for m in tar.getmembers() if pattern.fullmatch(m.name)]
        members.sort(key=lambda m: int(m.name.split(".")[-2]))
        for member in members:
            poems.extend(json.loads(tar.extractfile(member).read().decode("utf-8")))
    print(f"{len(members)} files, {len(poems):,} poems in {PACKAGE}")
    return poems


def build(tarball: Path, regulated_only: bool = False) -> str:
    import opencc  # the build's own dependency, not the app's

    to_simplified = opencc.OpenCC("t2s")
    works, left_out = [], 0
    for poem in read_package(tarball):
        cleaned = clean_poem(poem)
        if cleaned is None:
            left_out += 1
            continue
        title, author, lines = cleaned
        if regulated_only and not is_regulated(lines):
            continue
        text = "\n".join([f"《{title}》{author}", *lines])
        # One conversion per poem: OpenCC's phrase table needs the words around a character.
        # NFC folds the compatibility ideographs (U+F900...) into the characters they duplicate.
        works.append(unicodedata.normalize("NFC", to_simplified.convert(text)).translate(QUOTES))
    print(f"left out {left_out:,} poems with gaps, markup or editors' prose")
    return WORK_SEPARATOR.join(works) + "\n"


def is_regulated(lines: list[str]) -> bool:
    """Five or seven characters to every verse: the regulated and quatrain forms."""
    verses = [v for line in lines for v in re.split("[，。？！；：、]", line) if v]
    return bool(verses) and len({len(v) for v in verses}) == 1 and len(verses[0]) in (5, 7)


def fetch_package(folder: Path) -> Path:
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return next(folder.glob("chinese-poetry-*.tgz"))


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tarball = Path(argv[0]) if argv else fetch_package(Path(tmp))
        corpus = build(tarball)
        packed = lzma.compress(corpus.encode("utf-8"), preset=9 | lzma.PRESET_EXTREME)
        if len(packed) > MAX_BYTES:
            print(f"{len(packed):,} bytes is over {MAX_BYTES:,}: keeping the five- and seven-character forms only")
            corpus = build(tarball, regulated_only=True)
            packed = lzma.compress(corpus.encode("utf-8"), preset=9 | lzma.PRESET_EXTREME)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(packed)
    poems = corpus.count(WORK_SEPARATOR) + 1
    print(f"{poems:,} poems, {len(corpus):,} characters, {len(set(corpus)):,} distinct, "
          f"{len(packed):,} bytes compressed -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
