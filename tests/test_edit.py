"""The Edit image tab's built-in tools: damage, measures, the shipped restorer and upscalers on photos no
tool learned from, the API, the endpoints and the page."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import aigc
from aigc import limits
from aigc.data import damage as harm
from aigc.data.fidelity import psnr, ssim
from aigc.data.photos import PHOTOS, SAMPLES, PatchSampler, load_photo, shrink, to_array, to_picture
from aigc.errors import AigcError
from aigc.evaluation.edit import biharmonic, held_out, median3, restore_figures, upscale_figures
from aigc.pipelines.edit import restore_picture, upscale_picture
from conftest import shipped_card


def test_photos_load_offline_with_one_role_each_and_patches_are_seeded():
    assert set(SAMPLES) == {"coffee", "cat", "flower"}
    assert {p.role for p in PHOTOS.values()} == {"train", "held-out"}
    for name in PHOTOS:
        picture = load_photo(name)
        assert picture.mode == "RGB" and min(picture.size) >= 300
    a, b = PatchSampler(32, seed=1).batch(4), PatchSampler(32, seed=1).batch(4)
    assert a.shape == (4, 3, 32, 32) and a.equal(b) and not a.equal(PatchSampler(32, seed=2).batch(4))


def test_damage_is_seeded_and_of_the_size_asked():
    clean = to_array(load_photo("coffee"))[:128, :128]
    noisy, none = harm.damage(clean, "noise", 25, seed=3)
    assert none is None and np.array_equal(noisy, harm.damage(clean, "noise", 25, seed=3)[0])
    assert abs(psnr(noisy, clean) - 20.4) < 1.0  # sigma 25 of 255, a little less where it clips
    holed, mask = harm.damage(clean, "hole", 0.1, seed=3)
    assert 0.1 <= mask.mean() < 0.3 and np.all(holed[mask] == 0.5) and np.array_equal(holed[~mask], clean[~mask])
    specks, _ = harm.damage(clean, "salt-and-pepper", 0.05, seed=3)
    changed = np.any(specks != clean, axis=2).mean()
    assert 0.02 < changed < 0.06
    assert psnr(harm.damage(clean, "jpeg", 10)[0], clean) < psnr(harm.damage(clean, "jpeg", 80)[0], clean)


def test_psnr_and_ssim_agree_with_what_they_measure():
    clean = to_array(load_photo("cat"))[:96, :96]
    assert psnr(clean, clean) > 100 and ssim(clean, clean) == pytest.approx(1.0, abs=1e-4)
    noisy = harm.damage(clean, "noise", 10)[0]
    worse = harm.damage(clean, "noise", 40)[0]
    assert psnr(noisy, clean) > psnr(worse, clean) and ssim(noisy, clean) > ssim(worse, clean)


def test_the_restorer_beats_the_noise_and_a_median_filter_and_fills_holes_better_than_biharmonic():
    photos = held_out(192)
    card = shipped_card("edit", "restorer-photos")
    figures = restore_figures(lambda damaged, mask: to_array(restore_picture(to_picture(damaged), mask=mask)), photos)
    assert figures["noise25_psnr"] - figures["noise25_psnr_damaged"] >= min(3.0, card["noise25_psnr"] - card["noise25_psnr_damaged"] - 0.5)
    assert figures["noise25_psnr"] > figures["noise25_psnr_median"]
    assert figures["hole_psnr"] > figures["hole_psnr_biharmonic"]
    for case in ("noise50", "saltpepper", "jpeg20"):
        assert figures[f"{case}_psnr"] > figures[f"{case}_psnr_damaged"], case


@pytest.mark.parametrize("scale", [2, 4])
def test_the_upscalers_beat_bicubic_interpolation_on_held_out_photos(scale):
    name = f"upscaler-x{scale}-photos"
    figures = upscale_figures(lambda small: to_array(upscale_picture(to_picture(small), name)), scale, held_out(192))
    assert figures[f"x{scale}_psnr"] > figures[f"x{scale}_psnr_bicubic"] + (0.5 if scale == 2 else 0.2)
    assert figures[f"x{scale}_ssim"] > figures[f"x{scale}_ssim_bicubic"]


def test_edit_image_measures_against_the_undamaged_picture_and_fills_only_the_hole(tmp_path):
    done = aigc.edit_image("cat", "restore", damage="noise", amount=30, seed=1)
    f = done["figures"]
    assert f["psnr_after"] > f["psnr_before"] + 2 and f["ssim_after"] > f["ssim_before"]
    assert Image.open(done["before"]).size == Image.open(done["after"]).size == load_photo("cat").size
    picture = to_picture(to_array(load_photo("coffee"))[:160, :200])
    mask = np.zeros((160, 200), dtype=np.uint8)
    mask[60:90, 80:120] = 255
    path = tmp_path / "mask.png"
    Image.fromarray(mask).save(path)
    after = to_array(Image.open(aigc.edit_image(picture, "restore", mask=str(path))["after"]))
    assert np.abs(after[mask == 0] - to_array(picture)[mask == 0]).max() < 1 / 255 + 1e-6


def test_shrink_first_then_upscale_gives_back_more_than_bicubic():
    done = aigc.edit_image("flower", "upscale", scale=2, damage="shrink")
    assert Image.open(done["after"]).size == Image.open(done["original"]).size
    assert done["figures"]["psnr_after"] > done["figures"]["psnr_before"]


def test_large_pictures_are_shrunk_with_a_sentence_and_bad_requests_get_one():
    with limits.using(limits.Limits(edit_side=128)):
        done = aigc.edit_image("coffee", "upscale", scale=2)
    assert Image.open(done["after"]).size == (128, 86) and "shrunk to 64x43 so that" in done["notes"][0]
    assert len(done["notes"]) == 1
    for call, says in [(lambda: aigc.edit_image("coffee", "sharpen"), "Unknown tool"),
                       (lambda: aigc.edit_image(None, "restore"), "Upload an image"),
                       (lambda: aigc.edit_image("coffee", "restore", damage="fire"), "Unknown damage"),
                       (lambda: aigc.edit_image("coffee", "restore", damage="noise", amount=900), "between 1 and 75"),
                       (lambda: aigc.edit_image("coffee", "upscale", scale=3), "2 or 4"),
                       (lambda: aigc.edit_image("coffee", "upscale", damage="noise"), "'shrink'"),
                       (lambda: aigc.edit_image(np.zeros((4, 0, 3)), "restore"), "must be a picture")]:
        with pytest.raises(AigcError, match=says):
            call()


def test_the_classical_baselines_do_what_they_are_for():
    clean = held_out(96)[0]
    noisy, _ = harm.damage(clean, "salt-and-pepper", 0.05, seed=0)
    assert psnr(median3(noisy), clean) > psnr(noisy, clean) + 5
    holed, mask = harm.damage(clean, "hole", 0.1, seed=0)
    assert psnr(biharmonic(holed, mask), clean, mask) > psnr(holed, clean, mask)
    assert shrink(load_photo("cat"), 4).size == (112, 75)
