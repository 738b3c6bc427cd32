"""Training step for `text2video`: the caption-to-clip GAN of `models/video.py` on `moving-shapes`.

The recipe of `text2img` (cgan.py) in time: non-saturating loss, a matching-aware
discriminator (real clips with one attribute of their caption changed, the motion included,
count as fake) with attribute heads (AC-GAN: color, shape, size, start position, motion),
attributes dropped from captions at random so that partial captions work,
an EMA of the generator, and the best step chosen by the clip judge (motion, color).

A second, per-frame discriminator (the 2D one of `text2img`) judges `frame_picks` random
frames of each clip with its caption. The 3D discriminator's kernels cover the first and
last frames once and the others twice, so without it those two frames stay speckled and
the clip flashes where it loops.

A real clip shows the same object on the same background in every frame, only elsewhere, so
each frame holds the same colors in the same amounts. `steady` weighs a loss on how far each
generated frame's sorted pixel values (per channel: a histogram that ignores where pixels
are) lie from their mean over the clip; it is about 0.0003 for real clips and penalises a
background that drifts and an object whose color or size flickers, not its motion.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..data import moving_shapes, shapes
from ..evaluation.video import eval_captions, split_scores
from ..models.cgan import CaptionEncoder, ConditionalDiscriminator, Vocabulary
from ..models.video import VideoDiscriminator, VideoGenerator
from .cgan import CAPTION_WORDS, FILLER_WORDS, partial
from .gan import GANParts
from .images import grid
from .trainer import Task

VIDEO_WORDS = list(dict.fromkeys([*CAPTION_WORDS, *moving_shapes.MOTION_WORDS]))
CAPTION_LENGTH = 10
AUX = {**shapes.VOCABULARY, "motion": moving_shapes.MOTIONS}  # attributes the discriminator learns to name
EVAL_CLIPS = 200
FRAMES = 16


def histogram_drift(clips: torch.Tensor) -> torch.Tensor:
    """Per clip (N, T, C, H, W): how far each frame's sorted values in each channel lie from their
    mean over the clip's frames (the squared 1-D Wasserstein distance to their barycenter),
    averaged. Zero when every frame holds the same colors in the same amounts, wherever they are."""
    values = clips.flatten(3).sort(-1).values
    return (values - values.mean(1, keepdim=True)).pow(2).mean((1, 2, 3))


def mismatched(attrs: dict[str, str], rng: random.Random) -> dict[str, str]:
    """The caption with one named attribute changed (motion included)."""
    key = rng.choice(sorted(attrs))
    values = moving_shapes.MOTIONS if key == "motion" else shapes.VOCABULARY[key]
    return {**attrs, key: rng.choice([v for v in values if v != attrs[key]])}


class Text2VideoTask(GANParts, Task):
    kind = "text2video"
    task = "video"
    best_metric = "score"
    eval_samples = EVAL_CLIPS
    aux = AUX
    caption_length = CAPTION_LENGTH
    chunk = 50

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        self.sizes = sizes = config.model
        self.z_dim = sizes.z_dim
        self.vocab = Vocabulary(VIDEO_WORDS, FILLER_WORDS)
        # A fixed pool of clips, rendered once (clips are a pure function of seed and index).
        self.clips, self.attributes = moving_shapes.render_clips(sizes.clips, seed=config.seed)
        self.steps_per_epoch = max(1, len(self.clips) // (config.batch_size * accelerator.num_processes))
        torch.manual_seed(config.seed)
        generator = VideoGenerator(self.make_encoder(), self.z_dim, FRAMES, 3, sizes.width)
        discriminator = VideoDiscriminator(self.make_encoder(), 3, sizes.d_width, frames=FRAMES,
                                           aux={k: len(v) for k, v in AUX.items()})
        frame_d = ConditionalDiscriminator(self.make_encoder(), 3, sizes.d_width)
        # older runs had no frame discriminator: theirs starts fresh
        self.build_gan(generator, {"discriminator": discriminator, "frame-discriminator": frame_d}, sizes.ema_decay,
                       resume_from)
        self.caption_rng = random.Random(self.process_seed(config.seed + 29))
        self.eval_attrs = eval_captions(EVAL_CLIPS)
        self.fixed_z = torch.randn(EVAL_CLIPS, self.z_dim, generator=torch.Generator().manual_seed(1234))

    def make_encoder(self) -> CaptionEncoder:
        return CaptionEncoder(len(self.vocab.words), self.sizes.embed, CAPTION_LENGTH)

    def encode(self, attrs: list[dict[str, str]]) -> torch.Tensor:
        return self.vocab.encode([moving_shapes.caption(a) for a in attrs], CAPTION_LENGTH)

    @property
    def frame_D(self) -> torch.nn.Module:
        return self.networks["frame-discriminator"]

    def batch_at(self, step: int) -> tuple[torch.Tensor, list[dict[str, str]]]:
        """Batch `step` of a shuffled epoch: a function of (seed, step, process), so a resumed run sees the same data."""
        epoch, i = divmod(step, self.steps_per_epoch)
        order = torch.randperm(len(self.clips), generator=torch.Generator().manual_seed(self.config.seed * 7919 + epoch))
        index = self.shard(order, i, self.config.batch_size)
        clips = self.clips[index].float().div(127.5).sub(1).to(self.accelerator.device)
        return clips, [self.attributes[j] for j in index.tolist()]

    def train_step(self, step: int) -> dict[str, float]:
        self.G.train()
        real, attrs = self.batch_at(step)
        device = real.device
        keep = 1 - self.sizes.drop
        told = [partial(a, keep, self.caption_rng) for a in attrs]
        wrong = [mismatched(t or a, self.caption_rng) for t, a in zip(told, attrs)]
        cond, wrong = self.encode(told).to(device), self.encode(wrong).to(device)
        z = torch.randn(len(real), self.z_dim, device=device)
        fake = self.G(z, cond)
        k, frame_weight = self.sizes.frame_picks, self.sizes.frame_d
        picks = torch.randint(FRAMES, (len(real), k), device=device)
        frame_cond = cond.repeat_interleave(k, 0)
        with self.accelerator.autocast():
            f_real = self.frame_D(self.frames_of(real, picks), frame_cond)
            f_fake = self.frame_D(self.frames_of(fake.detach(), picks), frame_cond)
            f_loss = F.softplus(-f_real).mean() + F.softplus(f_fake).mean()
        self.step_optimizer("frame-discriminator", f_loss)
        frame_stats = {"d_frame_real": torch.sigmoid(f_real).mean().item(), "d_frame_fake": torch.sigmoid(f_fake).mean().item()}
        with self.accelerator.autocast():
            d_real = self.D(real, cond)
            d_fake = self.D(fake.detach(), cond)
            d_wrong = self.D(real, wrong)
            d_loss = F.softplus(-d_real).mean() + 0.5 * (F.softplus(d_fake).mean() + F.softplus(d_wrong).mean())
            d_aux = self.attribute_loss(real, attrs)
        self.step_optimizer("discriminator", d_loss + d_aux)
        with self.accelerator.autocast():
            g_loss = F.softplus(-self.D(fake, cond)).mean()
            g_frames = F.softplus(-self.frame_D(self.frames_of(fake, picks), frame_cond)).mean()
            g_aux = self.attribute_loss(fake, told)
        drift = histogram_drift(fake.float()).mean()
        self.step_optimizer("generator", g_loss + frame_weight * g_frames + g_aux + self.sizes.steady * drift)
        self.update_ema()
        return {
            "g_loss": g_loss.item(), "d_loss": d_loss.item(), "d_real": torch.sigmoid(d_real).mean().item(),
            "d_fake": torch.sigmoid(d_fake).mean().item(), "d_wrong": torch.sigmoid(d_wrong).mean().item(),
            "d_aux": d_aux.item(), "g_aux": g_aux.item(), "drift": drift.item(), **frame_stats,
        }

    def frames_of(self, clips: torch.Tensor, picks: torch.Tensor) -> torch.Tensor:
        """(N, T, C, H, W) clips and (N, k) frame indices -> the (N * k, C, H, W) picked frames."""
        return clips[torch.arange(len(clips), device=clips.device)[:, None], picks].flatten(0, 1)

    def evaluate(self) -> dict[str, float]:
        clips = self.generate(self.fixed_z, self.encode(self.eval_attrs))
        scores = split_scores(clips, self.eval_attrs)
        scores["histogram_drift"] = float(histogram_drift(clips).mean())
        # Lower is better: motion and color wrong, and flicker (over the clip and at its worst frame), all cost.
        scores["score"] = -(scores["motion_accuracy"] + scores["color_accuracy"] + scores["color_consistency"]
                            + scores["worst_frame_color"]) / 4
        return scores

    def sample(self, step: int) -> dict[str, Any]:
        rng = random.Random(7)
        attrs = [moving_shapes.sample_clip_attributes(rng) for _ in range(6)]
        clips = self.generate(self.fixed_z[:6], self.encode(attrs))
        return {"image": grid(clips.flatten(0, 1), nrow=FRAMES)}  # one row per clip

    def save_model(self, folder: Path, release: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        config = {"kind": self.kind, "channels": 3, "size": 32, "frames": FRAMES, "z_dim": self.z_dim,
                  "width": self.sizes.width, "embed": self.sizes.embed, "caption_length": CAPTION_LENGTH,
                  "vocabulary": self.vocab.words, "filler": sorted(self.vocab.filler)}
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        self.save_gan(folder, release)

    def card_fields(self) -> dict[str, Any]:
        return {"vocabulary": self.vocab.words, "filler": sorted(self.vocab.filler)}
