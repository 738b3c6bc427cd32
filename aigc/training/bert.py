"""Training step for `bert`: a BERT-style masked language model of a text corpus, from scratch.

Passages of whole lines (aigc.data.text.line_blocks) are masked by transformers' own collator with
whole-word masking: 15% of the words, every WordPiece token of a chosen word, each replaced by [MASK]
(Devlin et al., 2019, also replace some by random tokens or leave them; transformers' whole-word
masking does not). The best checkpoint is the one that fills most held-out
blanks with the right word (aigc.evaluation.masked_words), on a fixed sample cheap enough to run often.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer, BertForMaskedLM, DataCollatorForLanguageModeling

from ..data.text import line_blocks, load_corpus, split_corpus
from ..evaluation.masked_words import Baselines, baseline_figures, held_out_blanks, model_scores, scored
from ..models.bert import BlanksLoss, bert_from_scratch, wordpiece_tokenizer
from .trainer import Task

EVAL_BLANKS = 300
SHOWN_LINES = 4


class MaskedLMTask(Task):
    kind = "bert"
    task = "fill"
    best_metric = "word_misses"

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        self.train_text, self.val_text = split_corpus(load_corpus(config.dataset))
        if resume_from is not None:
            self.tokenizer = AutoTokenizer.from_pretrained(resume_from)
            model = BertForMaskedLM.from_pretrained(resume_from, dtype=torch.float32)
        else:
            self.tokenizer = wordpiece_tokenizer(self.train_text, sizes.vocab_size)
            torch.manual_seed(config.seed)
            model = bert_from_scratch(self.tokenizer, sizes.n_layer, sizes.n_embd, sizes.n_head, sizes.max_len,
                                      sizes.dropout)
        # Padded here, once: the collator cannot pad the offsets that whole-word masking reads.
        encode = dict(truncation=True, max_length=sizes.max_len, padding="max_length", return_offsets_mapping=True,
                      return_special_tokens_mask=True)
        train = self.tokenizer(line_blocks(self.train_text, self.tokenizer, sizes.max_len), **encode)
        self.examples = [dict(zip(train, values)) for values in zip(*train.values())]
        self.collate = DataCollatorForLanguageModeling(self.tokenizer, whole_word_mask=True, mlm_probability=sizes.mask_p,
                                                       mask_replace_prob=1.0, random_replace_prob=0.0)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=config.lr, betas=(0.9, 0.98))
        self.model, self.optimizer = accelerator.prepare(BlanksLoss(model), optimizer)
        self.parameters = sum(p.numel() for p in model.parameters())
        self.baselines = Baselines(self.train_text)
        self.blanks = held_out_blanks(self.val_text, EVAL_BLANKS, seed=1)
        self.generator = torch.Generator()

    @property
    def optimizers(self):
        return {"model": self.optimizer}

    @property
    def samples_per_step(self) -> int:
        return self.config.batch_size  # passages

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        # Passages and masks depend on (seed, step, process) only, so a resumed run sees fresh ones.
        seed = self.config.seed * 1_000_003 + step * 101 + self.accelerator.process_index
        self.generator.manual_seed(seed)
        picks = torch.randint(0, len(self.examples), (self.config.batch_size,), generator=self.generator)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # the collator draws its masks from torch's global generator
            batch = self.collate([self.examples[i] for i in picks.tolist()])
        return {k: v.to(self.accelerator.device) for k, v in batch.items()}

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        with self.accelerator.autocast():
            loss = self.model(**self.batch(step))
        self.descend(loss, self.model, self.optimizer)
        return {"loss": loss.item()}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        model = self.accelerator.unwrap_model(self.model).mlm.eval()
        figures = scored(model_scores(model, self.tokenizer, self.blanks, self.baselines.vocab),
                         self.baselines.answers(self.blanks))
        return {"word_misses": 1 - figures["top1"], **figures}

    @torch.no_grad()
    def sample(self, step: int) -> dict[str, Any]:
        """A few held-out blanks, each with the model's first choice beside the word that was there."""
        model = self.accelerator.unwrap_model(self.model).mlm.eval()
        shown = self.blanks[:SHOWN_LINES]
        scores = model_scores(model, self.tokenizer, shown, self.baselines.vocab)
        lines = []
        for blank, best in zip(shown, scores.argmax(-1).tolist()):
            line = blank.before.rsplit("\n", 1)[-1] + f"[{self.baselines.vocab[best]}]" + blank.after.split("\n", 1)[0]
            lines.append(f"{line}    ({blank.word})")
        return {"text": "\n".join(lines)}

    def save_model(self, folder: Path, release: bool = False) -> None:
        model = self.accelerator.unwrap_model(self.model).mlm
        if release:  # float16 halves the file; inference upcasts on CPU
            model = copy.deepcopy(model).half()
        model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)

    def card_fields(self) -> dict[str, Any]:
        return {"vocab_size": len(self.tokenizer), **asdict(self.config.model), "warmup": self.config.warmup,
                "weight_decay": self.config.weight_decay}

    def card_figures(self, folder: Path, metrics: dict[str, float], name: str) -> dict[str, float]:
        """Both baselines on the same blanks, for the card (`python -m aigc eval` judges 2,000)."""
        if not hasattr(self, "_baselines"):
            self._baselines = {"blanks": float(len(self.blanks)), **baseline_figures(self.baselines, self.blanks)}
        return self._baselines
