"""The measures themselves, on cases whose answer is known: a broken metric cannot pass."""

import math
import random

import numpy as np
import pytest
import torch

from aigc.data.images import digits, split
from aigc.data.shapes import COLORS, draw
from aigc.evaluation import shapes as shape_judge
from aigc.evaluation.text import heldout_loss, known_word_rate, perplexity


def _image(**attrs) -> torch.Tensor:
    picture = draw({"size": "large", "position": "center", **attrs}, 32, random.Random(0))
    return torch.from_numpy(np.array(picture)).permute(2, 0, 1).float().div(127.5).sub(1).unsqueeze(0)


@pytest.mark.parametrize("color", ["red", "blue"])
@pytest.mark.parametrize("shape", ["circle", "square", "triangle", "star"])
def test_a_drawn_shape_is_judged_for_what_it_is(color, shape):
    image = _image(color=color, shape=shape)
    wanted = {"color": color, "shape": shape, "position": "center"}
    assert shape_judge.judge(image, [wanted]) == {"color_accuracy": 1.0, "shape_accuracy": 1.0,
                                                  "position_accuracy": 1.0, "no_shape": 0.0}
    other_color = next(c for c in COLORS if c != color)
    other_shape = next(s for s in ("circle", "square", "triangle", "star") if s != shape)
    wrong = shape_judge.judge(image, [{"color": other_color, "shape": other_shape, "position": "top left"}])
    assert wrong["color_accuracy"] == wrong["shape_accuracy"] == wrong["position_accuracy"] == 0.0


def test_noise_is_not_a_shape():
    noise = torch.rand(64, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert shape_judge.judge(noise, [{"shape": "circle"}] * 64)["no_shape"] > 0.9


def test_psnr_and_ssim_rank_a_perfect_a_slightly_and_a_badly_rebuilt_digit():
    from torchmetrics.functional.image import peak_signal_noise_ratio as psnr, structural_similarity_index_measure as ssim

    real = split(digits())[1].images[:64].float().div(255)
    slight = (real + 0.02 * torch.randn(real.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    noise = torch.rand(real.shape, generator=torch.Generator().manual_seed(1))
    assert ssim(real, real, data_range=1.0) == pytest.approx(1.0)
    assert psnr(slight, real, data_range=1.0) > 30 > 10 > psnr(noise, real, data_range=1.0)
    assert ssim(slight, real, data_range=1.0) > 0.8 > 0.2 > ssim(noise, real, data_range=1.0)


def test_a_model_that_knows_nothing_has_the_perplexity_of_its_vocabulary():
    from transformers import GPT2Config, GPT2LMHeadModel

    vocab = 50
    model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_positions=16, n_embd=8, n_layer=1, n_head=2)).eval()
    with torch.no_grad():
        model.lm_head.weight.zero_()  # every next token equally likely
    tokens = torch.randint(0, vocab, (200,), generator=torch.Generator().manual_seed(0))
    loss = heldout_loss(model, tokens, block=16)
    assert loss == pytest.approx(math.log(vocab), rel=1e-4) and perplexity(loss) == pytest.approx(vocab, rel=1e-3)


def test_known_word_rate_tells_english_from_gibberish():
    vocabulary = {"to", "be", "or", "not", "that", "is", "the", "question"}
    assert known_word_rate("To be, or not to be: that is the question.", vocabulary) == 1.0
    assert known_word_rate("Xq zzv brklt ommp.", vocabulary) == 0.0
