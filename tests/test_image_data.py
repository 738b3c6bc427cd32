import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from aigc.data import shapes
from aigc.data.images import digits, load_images, shapes_set, split
from aigc.data.uploads import UploadLimits, load_zip
from aigc.errors import AigcError


def test_digits_are_the_real_1797_with_every_class_and_a_margin():
    d = digits()
    assert d.images.shape == (1797, 1, 32, 32) and d.images.dtype == torch.uint8
    assert d.labels.bincount().tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert d.images[:, :, :3].max() == 0 and d.images[:, :, :, -3:].max() == 0  # the border is background
    assert d.images.float().mean() > 20  # strokes, not an empty canvas


def test_split_is_stratified_disjoint_and_fixed():
    d = digits()
    train, test = split(d)
    assert len(train) + len(test) == len(d)
    assert (test.labels.bincount() >= 34).all()
    rows = {tuple(x.flatten().tolist()) for x in train.images[:200]}
    assert not rows & {tuple(x.flatten().tolist()) for x in test.images}
    assert torch.equal(split(d)[1].images, test.images)


def test_batches_cover_an_epoch_once_in_minus_one_to_one():
    d = digits()
    seen = []
    for batch in d.batches(128, torch.Generator().manual_seed(0)):
        assert batch["image"].shape == (128, 1, 32, 32) and batch["label"].shape == (128,)
        assert batch["image"].min() >= -1 and batch["image"].max() <= 1
        seen.append(batch["label"])
    assert len(seen) == len(d) // 128


def _foreground(img: torch.Tensor) -> torch.Tensor:
    """Pixels that differ clearly from the background (read at a corner)."""
    rgb = img.float()
    background = rgb[:, 0, 0].view(3, 1, 1)
    return (rgb - background).abs().amax(0) > 60


def test_shapes_captions_match_their_pixels():
    data = shapes_set(300)
    palette = torch.tensor(list(shapes.COLORS.values()), dtype=torch.float)
    names = list(shapes.COLORS)
    areas = {(shape, size): [] for shape in shapes.SHAPES for size in shapes.SIZES}
    for img, attrs, caption in zip(data.images, data.attributes, data.captions):
        for word in attrs.values():
            assert word in caption
        mask = _foreground(img)
        diff = (img.float() - img.float()[:, 0, 0].view(3, 1, 1)).abs().amax(0)
        core = diff >= 0.8 * diff.max()  # edge pixels are blended with the background
        mean = img.float()[:, core].mean(1)
        assert names[(palette - mean).norm(dim=1).argmin()] == attrs["color"], caption
        ys, xs = mask.nonzero(as_tuple=True)
        cx, cy = xs.float().mean() / 32, ys.float().mean() / 32
        px, py = shapes.POSITIONS[attrs["position"]]
        assert abs(cx - px) < 0.1 and abs(cy - py) < 0.12, caption
        areas[attrs["shape"], attrs["size"]].append(mask.sum().item())
    for shape in shapes.SHAPES:
        assert max(areas[shape, "small"]) < min(areas[shape, "large"]), shape


@pytest.mark.slow  # renders the whole 64-pixel shapes set
def test_shapes_are_a_pure_function_of_the_seed():
    a, attrs_a = shapes.render(8, seed=3)
    b, attrs_b = shapes.render(8, seed=3)
    c, _ = shapes.render(8, seed=4)
    assert torch.equal(a, b) and attrs_a == attrs_b and not torch.equal(a, c)
    assert shapes.caption({"color": "red"}) == "a red shape"
    assert load_images("shapes-64").images.shape[1:] == (3, 64, 64)


def test_torchvision_datasets_offline_say_so_in_one_sentence():
    with pytest.raises(AigcError, match="offline"):
        load_images("mnist")
    with pytest.raises(AigcError, match="digits"):
        load_images("imagenet")


def _png(size=(16, 16), color=(200, 30, 30), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else 128).save(buf, format="PNG")
    return buf.getvalue()


def _zip(tmp_path, files: dict[str, bytes], name="upload.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in files.items():
            z.writestr(n, data)
    return path


def test_a_zip_with_label_folders_loads_in_memory(tmp_path):
    path = _zip(tmp_path, {"set/cats/a.png": _png(), "set/cats/b.png": _png(), "set/dogs/c.png": _png(color=(0, 0, 255)),
                           "set/readme.txt": b"hi", "__MACOSX/set/._a.png": b"junk"})
    data = load_zip(path)
    assert data.images.shape == (3, 3, 16, 16) and data.class_names == ["cats", "dogs"]
    assert data.labels.tolist() == [0, 0, 1]
    assert data.images[2, 2].float().mean() > 250  # the blue one is blue
    gray = load_zip(_zip(tmp_path, {"a.png": _png(mode="L"), "b.png": _png(mode="L")}, "gray.zip"))
    assert gray.images.shape == (2, 1, 16, 16) and gray.labels is None


@pytest.mark.parametrize("files, message", [
    ({"../evil.png": _png(), "ok.png": _png()}, "outside"),
    ({"/etc/evil.png": _png()}, "outside"),
    ({"notes.txt": b"no pictures here"}, "no images"),
    ({"a.png": _png((16, 16)), "b.png": _png((20, 20))}, "different sizes"),
    ({"a.png": b"this is not a png"}, "not a readable image"),
    ({"big.png": _png((300, 300))}, "at most"),
])
def test_bad_zips_get_one_sentence(tmp_path, files, message):
    with pytest.raises(AigcError, match=message):
        load_zip(_zip(tmp_path, files))


def test_not_an_archive_and_a_zip_bomb_are_refused(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"PK but not really")
    with pytest.raises(AigcError, match="not a .zip"):
        load_zip(fake)
    bomb = _zip(tmp_path, {"a.png": bytes(50 * 2**20)}, "bomb.zip")  # 50 MB of zeros packs to ~50 kB
    with pytest.raises(AigcError, match="too large"):
        load_zip(bomb)
    with pytest.raises(AigcError, match="limit"):
        load_zip(_zip(tmp_path, {f"{i}.png": _png() for i in range(5)}, "many.zip"), UploadLimits(images=4))
    assert np.asarray(Image.open(io.BytesIO(_png()))).shape == (16, 16, 3)
