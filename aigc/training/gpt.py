"""Training step for `gpt`: a character-level GPT-2 on a text corpus."""

from __future__ import annotations

import copy
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer, GPT2LMHeadModel

from ..data.text import char_tokenizer, encode_corpus, load_corpus, random_blocks, split_corpus
from ..evaluation.text import heldout_loss
from ..models.gpt import gpt2_from_scratch
from .trainer import Task


class GPTTask(Task):
    kind = "gpt"
    task = "text"

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        self.block = sizes.block_size
        train_text, val_text = split_corpus(load_corpus(config.dataset))
        self.tokenizer = AutoTokenizer.from_pretrained(resume_from) if resume_from else char_tokenizer(train_text)
        torch.manual_seed(config.seed)
        model = self.build_model(resume_from)
        self.train_tokens = encode_corpus(train_text, self.tokenizer)
        self.val_tokens = encode_corpus(val_text, self.tokenizer)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=config.lr, betas=(0.9, 0.99),
        )
        self.model, self.optimizer = accelerator.prepare(model, optimizer)
        self.parameters = sum(p.numel() for p in model.parameters())
        # Batches depend on (seed, step, process) only, so a resumed run sees fresh data.
        self.generator = torch.Generator()
        self.val_generator_seed = 1234

    def build_model(self, resume_from: Path | None) -> torch.nn.Module:
        """The network: new, or as saved in the checkpoint `resume_from`."""
        if resume_from is not None:
            model = GPT2LMHeadModel.from_pretrained(resume_from, dtype=torch.float32)
        else:
            model = gpt2_from_scratch(self.tokenizer, **asdict(self.config.model))
        model.loss_type = "ForCausalLM"  # GPT2LMHeadModel's name does not say it, and transformers warns
        return model

    @property
    def optimizers(self):
        return {"model": self.optimizer}

    @property
    def samples_per_step(self) -> int:
        return self.config.batch_size * self.block  # tokens

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        self.generator.manual_seed(self.config.seed * 1_000_003 + step * 101 + self.accelerator.process_index)
        x = random_blocks(self.train_tokens, self.config.batch_size, self.block, self.generator).to(self.accelerator.device)
        with self.accelerator.autocast():
            loss = self.model(input_ids=x, attention_mask=torch.ones_like(x), labels=x).loss
        self.descend(loss, self.model, self.optimizer)
        return {"loss": loss.item()}

    @torch.no_grad()
    def evaluate(self, batches: int = 8) -> dict[str, float]:
        """Loss on a fixed sample of held-out windows: cheap enough to run often."""
        self.model.eval()
        gen = torch.Generator().manual_seed(self.val_generator_seed)
        losses = []
        for _ in range(batches):
            x = random_blocks(self.val_tokens, self.config.batch_size, self.block, gen).to(self.accelerator.device)
            with self.accelerator.autocast():
                losses.append(self.model(input_ids=x, attention_mask=torch.ones_like(x), labels=x).loss.item())
        return {"val_loss": sum(losses) / len(losses)}

    def full_heldout_loss(self) -> float:
        self.model.eval()
        return heldout_loss(self.accelerator.unwrap_model(self.model), self.val_tokens, self.block)

    @torch.no_grad()
    def sample(self, step: int, length: int = 300) -> dict[str, Any]:
        length = min(length, self.block - 1)
        model = self.accelerator.unwrap_model(self.model).eval()
        torch.manual_seed(step)
        start = torch.tensor([[self.tokenizer.bos_token_id]], device=self.accelerator.device)
        out = model.generate(start, attention_mask=torch.ones_like(start), max_new_tokens=length, do_sample=True, temperature=0.8, top_k=50,
                             pad_token_id=self.tokenizer.pad_token_id)
        return {"text": self.tokenizer.decode(out[0, 1:], skip_special_tokens=True)}

    def save_model(self, folder: Path, release: bool = False) -> None:
        model = self.accelerator.unwrap_model(self.model)
        if release:  # float16 halves the file (Spaces cap files at 10 MB); inference upcasts on CPU
            model = copy.deepcopy(model).half()
        model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)

    def shown_metrics(self, metrics: dict[str, float]) -> dict[str, float]:
        """The trainer's loss is on a fixed sample of held-out windows; `python -m aigc eval` scores them all."""
        figures = dict(metrics)
        loss = figures.pop("val_loss")
        return {"val_loss_sampled": loss, "val_perplexity_sampled": math.exp(loss), **figures}

    def card_fields(self) -> dict[str, Any]:
        sizes, cfg = self.config.model, self.config
        return {"vocab_size": len(self.tokenizer), "n_layer": sizes.n_layer, "n_head": sizes.n_head,
                "n_embd": sizes.n_embd, "block_size": sizes.block_size, "warmup": cfg.warmup,
                "weight_decay": cfg.weight_decay}
