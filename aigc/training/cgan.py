"""Training steps for the conditional GANs: `cgan` (by class label) and `text2img` (by caption).

Both keep the DCGAN recipe of `dcgan.py` (paper initialisation, non-saturating loss,
differentiable augmentation of the images, an EMA of the generator) and add the
matching-aware discriminator of Reed et al. (2016): besides real and generated images,
it sees real images with a wrong condition and learns to call them fake, which teaches
the generator to obey the condition, not only to look real. `text2img` also gives the
discriminator heads that name each attribute of a real image (AC-GAN, Odena et al., 2017),
and the generator is trained to make them name what its caption asked for: a direct signal
for four attributes that the single real/fake logit carries only weakly. The best checkpoint
is the one whose samples the independent judge scores best.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..data import shapes
from ..models.cgan import CaptionEncoder, ConditionalDiscriminator, ConditionalGenerator, LabelEncoder, Vocabulary
from .dcgan import diff_augment
from .gan import GANParts
from .images import EVAL_SAMPLES, ImageTask, grid

# The caption words of `shapes`, and the words a caption may add around them.
CAPTION_WORDS = [*shapes.COLORS, *shapes.SHAPES, *shapes.SIZES, "top", "bottom", "left", "right", "center"]
FILLER_WORDS = ["a", "an", "the", "in", "at", "on", "of", "shape", "and", "with"]
CAPTION_LENGTH = 8


class CGANTask(GANParts, ImageTask):
    """Conditioned on class labels (`digits`)."""

    kind = "cgan"
    task = "conditional"
    best_metric = "score"
    caption_length = CAPTION_LENGTH

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        self.sizes = sizes = config.model
        self.z_dim, self.width, self.augment_p = sizes.z_dim, sizes.width, sizes.augment_p
        torch.manual_seed(config.seed)
        generator = ConditionalGenerator(self.make_encoder(), self.z_dim, self.channels, self.width)
        discriminator = ConditionalDiscriminator(self.make_encoder(), self.channels, self.width,
                                                 aux={k: len(v) for k, v in self.aux.items()})
        self.build_gan(generator, {"discriminator": discriminator}, sizes.ema_decay, resume_from)
        self.rng = torch.Generator().manual_seed(self.process_seed(config.seed + 17))
        self.fixed_z = torch.randn(EVAL_SAMPLES, self.z_dim, generator=torch.Generator().manual_seed(1234))

    # -- what differs between labels and captions --------------------------------------------------
    def make_encoder(self) -> torch.nn.Module:
        return LabelEncoder(len(self.train_set.class_names), self.sizes.embed)

    def conditions(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, list | None]:
        """(the batch's conditions, wrong ones for the same images, the attributes each condition names)."""
        labels = batch["label"]
        wrong = (labels + torch.randint(1, 10, labels.shape, generator=self.rng)) % 10
        return labels, wrong, None

    def eval_conditions(self) -> torch.Tensor:
        return torch.arange(EVAL_SAMPLES) % 10

    def eval_scores(self, images: torch.Tensor) -> dict[str, float]:
        from ..evaluation.digits import judge

        scores = {**self.digit_scores(images), **judge(images, self.eval_conditions())}
        # Lower is better: the Frechet distance, growing fast as samples stop matching their labels.
        scores["score"] = scores["frechet_distance"] * (1 + 10 * (1 - scores["label_accuracy"]))
        return scores

    def preview_conditions(self) -> torch.Tensor:
        return torch.arange(10).repeat_interleave(8)  # one row per label

    def config_fields(self) -> dict[str, Any]:
        return {"class_names": self.train_set.class_names, "embed": self.sizes.embed}

    # -- shared ---------------------------------------------------------------------------------------
    def train_step(self, step: int) -> dict[str, float]:
        self.G.train()
        batch = self.batch_at(step)
        real = batch["image"]
        device = real.device
        cond, wrong, named = self.conditions(batch)
        cond, wrong = cond.to(device), wrong.to(device)
        z = torch.randn(len(real), self.z_dim, device=device)
        fake = self.G(z, cond)
        aug = lambda x: diff_augment(x, self.rng, self.augment_p)  # noqa: E731
        with self.accelerator.autocast():
            real_aug = aug(real)
            d_real = self.D(real_aug, cond)
            d_fake = self.D(aug(fake.detach()), cond)
            d_wrong = self.D(real_aug, wrong)
            d_loss = F.softplus(-d_real).mean() + 0.5 * (F.softplus(d_fake).mean() + F.softplus(d_wrong).mean())
            d_aux = self.attribute_loss(real_aug, batch.get("attributes"))  # real images: every attribute known
        self.step_optimizer("discriminator", d_loss + d_aux)
        with self.accelerator.autocast():
            fake_aug = aug(fake)
            g_loss = F.softplus(-self.D(fake_aug, cond)).mean()
            g_aux = self.attribute_loss(fake_aug, named)  # generated ones: what their caption named
        self.step_optimizer("generator", g_loss + g_aux)
        self.update_ema()
        out = {
            "g_loss": g_loss.item(), "d_loss": d_loss.item(), "d_real": torch.sigmoid(d_real).mean().item(),
            "d_fake": torch.sigmoid(d_fake).mean().item(), "d_wrong": torch.sigmoid(d_wrong).mean().item(),
        }
        if self.aux:
            out.update(d_aux=d_aux.item(), g_aux=g_aux.item())
        return out

    def eval_images(self) -> torch.Tensor:
        return self.generate(self.fixed_z, self.eval_conditions())

    def evaluate(self) -> dict[str, float]:
        return self.eval_scores(self.eval_images())

    def sample(self, step: int) -> dict[str, Any]:
        cond = self.preview_conditions()
        return {"image": grid(self.generate(self.fixed_z[: len(cond)], cond))}

    def save_model(self, folder: Path, release: bool = False) -> None:
        self.write_config(folder, z_dim=self.z_dim, width=self.width, **self.config_fields())
        self.save_gan(folder, release)


def partial(attrs: dict[str, str], keep: float, rng: random.Random) -> dict[str, str]:
    """Each attribute kept with probability `keep`: a caption may name any subset."""
    return {k: v for k, v in attrs.items() if rng.random() < keep}


def mismatched(attrs: dict[str, str], rng: random.Random) -> dict[str, str] | None:
    """The same caption with one named attribute changed; None when it names none."""
    if not attrs:
        return None
    key = rng.choice(sorted(attrs))
    return {**attrs, key: rng.choice([v for v in shapes.VOCABULARY[key] if v != attrs[key]])}


class Text2ImgTask(CGANTask):
    """Conditioned on captions of `shapes`, encoded by a caption encoder trained with each network."""

    kind = "text2img"
    aux = shapes.VOCABULARY

    def __init__(self, config, accelerator, resume_from: Path | None):
        self.vocab = Vocabulary(CAPTION_WORDS, FILLER_WORDS)
        super().__init__(config, accelerator, resume_from)
        self.eval_samples = EVAL_SAMPLES  # scored by the shape judge
        self.caption_rng = random.Random(config.seed + 29)
        eval_rng = random.Random(4321)
        # Half full captions, half partial ones, so both kinds count in the score.
        self.eval_attrs = [shapes.sample_attributes(eval_rng) for _ in range(EVAL_SAMPLES)]
        self.eval_attrs = [a if i % 2 == 0 else partial(a, 0.5, eval_rng) for i, a in enumerate(self.eval_attrs)]

    def encode(self, attrs: list[dict[str, str]]) -> torch.Tensor:
        return self.vocab.encode([shapes.caption(a) for a in attrs], CAPTION_LENGTH)

    def make_encoder(self) -> torch.nn.Module:
        return CaptionEncoder(len(self.vocab.words), self.sizes.embed, CAPTION_LENGTH)

    def conditions(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, list]:
        keep = 1 - self.sizes.drop
        told = [partial(a, keep, self.caption_rng) for a in batch["attributes"]]
        # A caption that names nothing matches every image; its wrong twin is then a full
        # caption that differs from the image in one attribute.
        wrong = [mismatched(t or a, self.caption_rng) for t, a in zip(told, batch["attributes"])]
        return self.encode(told), self.encode(wrong), told

    def eval_conditions(self) -> torch.Tensor:
        return self.encode(self.eval_attrs)

    def eval_scores(self, images: torch.Tensor) -> dict[str, float]:
        from ..evaluation.shapes import judge

        scores = judge(images, self.eval_attrs)
        full = judge(images[0::2], self.eval_attrs[0::2])
        part = judge(images[1::2], self.eval_attrs[1::2])
        scores.update({f"full_{k}": v for k, v in full.items() if k.endswith("accuracy")})
        scores.update({f"partial_{k}": v for k, v in part.items() if k.endswith("accuracy")})
        scores["score"] = -(scores["color_accuracy"] + scores["shape_accuracy"] + scores["position_accuracy"]) / 3
        return scores

    def preview_conditions(self) -> torch.Tensor:
        rng = random.Random(7)
        attrs = [shapes.sample_attributes(rng) for _ in range(8)]
        return self.encode([a for a in attrs for _ in range(8)])  # one row per caption

    def config_fields(self) -> dict[str, Any]:
        return {"vocabulary": self.vocab.words, "filler": sorted(self.vocab.filler), "embed": self.sizes.embed,
                "caption_length": CAPTION_LENGTH}

    def card_fields(self) -> dict[str, Any]:
        return {"vocabulary": self.vocab.words, "filler": sorted(self.vocab.filler)}
