"""Training step for `lstm`: a character-level LSTM on a text corpus, with the GPT's data, split,
batches, optimizer and evaluation (aigc.training.gpt), so that the two compare on the same terms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..models.lstm import CharLSTM
from .gpt import GPTTask


class LSTMTask(GPTTask):
    kind = "lstm"

    def build_model(self, resume_from: Path | None) -> torch.nn.Module:
        sizes = self.config.model
        model = CharLSTM(len(self.tokenizer), sizes.n_embd, sizes.hidden, sizes.layers, sizes.dropout, sizes.block_size)
        if resume_from is not None:
            model.load_state_dict(load_file(resume_from / "model.safetensors"))
        return model

    @torch.no_grad()
    def sample(self, step: int, length: int = 300) -> dict[str, Any]:
        """`length` characters from the start of a work (temperature 0.8, top-k 50), decoded as the app
        decodes it (compat.generate_rows, the state carried from step to step)."""
        from transformers import TemperatureLogitsWarper, TopKLogitsWarper

        from .. import compat

        model = self.accelerator.unwrap_model(self.model).eval()
        gen = torch.Generator().manual_seed(step)
        warpers = (TemperatureLogitsWarper(0.8), TopKLogitsWarper(50))

        def choose(input_ids: torch.Tensor, scores: torch.Tensor) -> list[int]:
            for warp in warpers:
                scores = warp(input_ids, scores)
            return torch.multinomial(scores.cpu().softmax(-1), 1, generator=gen).flatten().tolist()

        start = torch.tensor([[self.tokenizer.bos_token_id]], device=self.accelerator.device)
        written: list[int] = []
        compat.generate_rows(model, start, torch.ones_like(start), max_new_tokens=length, pad=self.tokenizer.pad_token_id,
                             choose=choose, emit=written.extend, stop_rows=lambda ids: [False] * len(ids))
        return {"text": self.tokenizer.decode(written, skip_special_tokens=True)}

    def save_model(self, folder: Path, release: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        model = self.accelerator.unwrap_model(self.model)
        (folder / "config.json").write_text(json.dumps({"kind": self.kind, "task": self.task, **model.settings}, indent=2))
        dtype = torch.float16 if release else torch.float32  # half the file; inference upcasts on CPU
        save_file({k: v.detach().to(dtype).cpu().contiguous() for k, v in model.state_dict().items()},
                  folder / "model.safetensors")
        self.tokenizer.save_pretrained(folder)

    def card_fields(self) -> dict[str, Any]:
        sizes, cfg = self.config.model, self.config
        return {"vocab_size": len(self.tokenizer), "layers": sizes.layers, "hidden": sizes.hidden, "n_embd": sizes.n_embd,
                "block_size": sizes.block_size, "warmup": cfg.warmup, "weight_decay": cfg.weight_decay}
