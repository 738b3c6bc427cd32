"""Ship a training run's best model as a built-in one: copy it into checkpoints/<task>/<name>/, name its
card, then measure it as every built-in model is measured (`python -m aigc eval NAME` rewrites the card's
figures and its samples).

    python scripts/ship_run.py runs/mel-diffusion-digits mel-digits
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from huggingface_hub import ModelCard

ROOT = Path(__file__).resolve().parent.parent
# weights as released (no optimizer, no raw twin), with the tokenizer of a text model; samples are redrawn by eval
SHIPPED = ("config.json", "generation_config.json", "model.safetensors", "README.md", "tokenizer.json",
           "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("name")
    parser.add_argument("--no-eval", action="store_true", help="copy and name only")
    args = parser.parse_args()
    best = args.run / "best"
    card = ModelCard.load(best / "README.md")
    folder = ROOT / "checkpoints" / card.data.task / args.name
    folder.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED:
        if (best / name).is_file():
            shutil.copy2(best / name, folder / name)
    card.data.name = args.name
    card.data.measured_by = "python -m aigc eval"
    card.save(folder / "README.md")
    print(f"Copied {best} to {folder.relative_to(ROOT)}")
    if not args.no_eval:
        subprocess.run([sys.executable, "-m", "aigc", "eval", args.name], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
