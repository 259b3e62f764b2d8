"""Keyframe images: every Pillow mode becomes uint8 H×W×3 RGB; damaged files are InputErrors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from douga.errors import InputError
from douga.images import FIT_MODES, check_image, fit_image, load_image

H, W = 12, 20


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _assert_rgb(arr: np.ndarray, shape: tuple[int, int] = (H, W)) -> None:
    assert arr.dtype == np.uint8
    assert arr.shape == (*shape, 3)
    assert arr.flags.c_contiguous and arr.flags.writeable


@pytest.mark.parametrize("ext", ["png", "bmp", "tiff", "webp"])
def test_rgb_lossless_formats_round_trip(tmp_path: Path, rgb: np.ndarray, ext: str) -> None:
    path = tmp_path / f"kf.{ext}"
    Image.fromarray(rgb).save(path, **({"lossless": True} if ext == "webp" else {}))
    out = load_image(path)
    _assert_rgb(out)
    np.testing.assert_array_equal(out, rgb)
    assert check_image(path) == (W, H)


def test_jpeg(tmp_path: Path, rgb: np.ndarray) -> None:
    path = tmp_path / "kf.jpg"
    smooth = np.repeat(np.linspace(0, 255, W, dtype=np.uint8)[None, :, None], H, 0).repeat(3, 2)
    Image.fromarray(smooth).save(path, quality=95)
    out = load_image(path)
    _assert_rgb(out)
    assert np.abs(out.astype(int) - smooth).max() < 12
    assert check_image(path) == (W, H)


def test_rgba_is_composited_on_black(tmp_path: Path, rgb: np.ndarray) -> None:
    alpha = np.tile(np.array([0, 64, 128, 255], np.uint8), (H, W // 4))
    path = tmp_path / "a.png"
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path)
    out = load_image(path)
    _assert_rgb(out)
    want = np.rint(rgb.astype(float) * alpha[..., None] / 255)
    assert np.abs(out.astype(float) - want).max() <= 0.5 + 1e-9
    assert (out[alpha == 0] == 0).all()
    np.testing.assert_array_equal(out[alpha == 255], rgb[alpha == 255])


def test_gray_and_gray_alpha(tmp_path: Path) -> None:
    gray = np.arange(H * W, dtype=np.uint8).reshape(H, W)
    Image.fromarray(gray, "L").save(tmp_path / "l.png")
    out = load_image(tmp_path / "l.png")
    _assert_rgb(out)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)
    la = Image.merge("LA", [Image.fromarray(gray), Image.new("L", (W, H), 0)])
    la.save(tmp_path / "la.png")
    assert (load_image(tmp_path / "la.png") == 0).all()


def test_bilevel(tmp_path: Path) -> None:
    bits = (np.indices((H, W)).sum(0) % 2).astype(bool)
    Image.fromarray(bits).convert("1").save(tmp_path / "b.png")
    out = load_image(tmp_path / "b.png")
    _assert_rgb(out)
    np.testing.assert_array_equal(out[..., 0], np.where(bits, 255, 0))


def test_sixteen_bit_gray_is_scaled_not_clipped(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, H * W).astype(np.uint16).reshape(H, W)
    path = tmp_path / "g16.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    out = load_image(path)
    _assert_rgb(out)
    np.testing.assert_array_equal(out[..., 0], np.rint(ramp / 257.0).astype(np.uint8))
    assert out.max() == 255 and out.min() == 0


def test_thirty_two_bit_int_and_float(tmp_path: Path) -> None:
    small = np.arange(H * W, dtype=np.int32).reshape(H, W) % 256
    Image.fromarray(small, "I").save(tmp_path / "i.tiff")
    np.testing.assert_array_equal(load_image(tmp_path / "i.tiff")[..., 1], small)
    unit = np.linspace(0, 1, H * W, dtype=np.float32).reshape(H, W)
    Image.fromarray(unit, "F").save(tmp_path / "f.tiff")
    out = load_image(tmp_path / "f.tiff")
    _assert_rgb(out)
    np.testing.assert_array_equal(out[..., 2], np.rint(unit * 255).astype(np.uint8))


def test_palette_with_and_without_transparency(tmp_path: Path, rgb: np.ndarray) -> None:
    pal = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.save(tmp_path / "p.png")
    out = load_image(tmp_path / "p.png")
    _assert_rgb(out)
    np.testing.assert_array_equal(out, np.asarray(pal.convert("RGB")))
    # index 0 transparent: those pixels go black
    pal.save(tmp_path / "pt.png", transparency=0)
    idx = np.asarray(pal)
    out_t = load_image(tmp_path / "pt.png")
    assert (out_t[idx == 0] == 0).all()
    np.testing.assert_array_equal(out_t[idx != 0], out[idx != 0])


def test_gif_takes_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (W, H), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    out = load_image(tmp_path / "anim.gif")
    _assert_rgb(out)
    assert tuple(out[0, 0]) == (255, 0, 0)


@pytest.mark.parametrize("ext", ["jpg", "tiff"])
def test_cmyk(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"c.{ext}"
    Image.new("RGB", (W, H), (200, 40, 10)).convert("CMYK").save(path)
    out = load_image(path)
    _assert_rgb(out)
    assert np.abs(out[H // 2, W // 2].astype(int) - (200, 40, 10)).max() < 10


def test_exif_orientation_is_applied(tmp_path: Path, rgb: np.ndarray) -> None:
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to view
    im.save(tmp_path / "phone.png", exif=exif)
    out = load_image(tmp_path / "phone.png")
    _assert_rgb(out, (W, H))
    np.testing.assert_array_equal(out, np.rot90(rgb, k=-1))
    assert check_image(tmp_path / "phone.png") == (H, W)


def test_missing_file(tmp_path: Path) -> None:
    for fn in (load_image, check_image):
        with pytest.raises(InputError, match=r"kf\.png: file not found"):
            fn(tmp_path / "kf.png")


def test_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a file"):
        load_image(tmp_path)


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is text, not a picture\n")
    for fn in (load_image, check_image):
        with pytest.raises(InputError, match=r"notes\.png: not an image"):
            fn(path)


@pytest.mark.parametrize("ext", ["png", "jpg"])
def test_truncated_files_are_caught_by_both(tmp_path: Path, rgb: np.ndarray, ext: str) -> None:
    whole = tmp_path / f"whole.{ext}"
    Image.fromarray(np.repeat(np.repeat(rgb, 8, 0), 8, 1)).save(whole)
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    for fn in (load_image, check_image):
        with pytest.raises(InputError, match=rf"cut\.{ext}: corrupt or truncated"):
            fn(cut)


def test_corrupt_png_checksum(tmp_path: Path, rgb: np.ndarray) -> None:
    path = tmp_path / "bad.png"
    Image.fromarray(rgb).save(path)
    data = bytearray(path.read_bytes())
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    path.write_bytes(bytes(data))
    for fn in (load_image, check_image):
        with pytest.raises(InputError, match=r"bad\.png: corrupt"):
            fn(path)


# ------------------------------------------------------------------------- fitting
def _solid(h: int, w: int, color: tuple[int, int, int] = (200, 120, 40)) -> np.ndarray:
    return np.tile(np.array(color, np.uint8), (h, w, 1))


@pytest.mark.parametrize("mode", FIT_MODES)
@pytest.mark.parametrize(("h", "w"), [(90, 160), (100, 100), (300, 120), (7, 1000), (1, 1)])
@pytest.mark.parametrize(("out_h", "out_w"), [(72, 128), (360, 640), (128, 72)])
def test_fit_gives_exact_size(mode: str, h: int, w: int, out_h: int, out_w: int) -> None:
    out = fit_image(_solid(h, w), out_w, out_h, mode=mode)  # type: ignore[arg-type]
    _assert_rgb(out, (out_h, out_w))


def test_fit_same_size_is_the_input() -> None:
    img = _solid(72, 128)
    for mode in FIT_MODES:
        assert fit_image(img, 128, 72, mode=mode) is img  # type: ignore[arg-type]


def test_contain_letterboxes_on_black() -> None:
    out = fit_image(_solid(100, 100), 160, 90)  # contain is the default
    _assert_rgb(out, (90, 160))
    # a 90×90 picture in the middle, 35 px black bars left and right
    assert (out[:, :35] == 0).all() and (out[:, -35:] == 0).all()
    np.testing.assert_array_equal(out[:, 35:125], _solid(90, 90))
    tall = fit_image(_solid(40, 160), 160, 90)
    assert (tall[:25] == 0).all() and (tall[-25:] == 0).all()
    np.testing.assert_array_equal(tall[25:65], _solid(40, 160))


def test_cover_crops_the_centre() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, :100] = (255, 0, 0)
    img[:, 100:] = (0, 0, 255)
    img[:, :50] = (0, 255, 0)  # the outer quarters are cropped away
    img[:, 150:] = (0, 255, 0)
    out = fit_image(img, 100, 100, mode="cover")
    _assert_rgb(out, (100, 100))
    assert (out[:, :49] == (255, 0, 0)).all() and (out[:, 51:] == (0, 0, 255)).all()
    assert not (out == (0, 255, 0)).all(axis=2).any()
    up = fit_image(img, 400, 400, mode="cover")  # enlarging: still no green
    assert (up[:, :190] == (255, 0, 0)).all() and (up[:, 210:] == (0, 0, 255)).all()


def test_stretch_ignores_aspect() -> None:
    img = np.zeros((10, 10, 3), np.uint8)
    img[:5] = 255
    out = fit_image(img, 40, 20, mode="stretch")
    _assert_rgb(out, (20, 40))
    assert (out[:3] == 255).all() and (out[17:] == 0).all()  # Lanczos rings near the edge
    assert out[:10].mean() > 240 and out[10:].mean() < 15


def test_fit_resampling_is_clean() -> None:
    # shrinking averages (no aliasing of a fine checker), enlarging keeps flat colour flat
    checker = ((np.indices((200, 200)).sum(0) % 2) * 255).astype(np.uint8)
    small = fit_image(np.dstack([checker] * 3), 50, 50, mode="stretch")
    assert np.abs(small.astype(int) - 127).max() <= 1
    flat = fit_image(_solid(9, 16), 1280, 720)
    np.testing.assert_array_equal(flat, _solid(720, 1280))


def test_fit_bad_mode_and_input() -> None:
    expected = r"fit: got 'zoom'; expected one of contain, cover, stretch"
    with pytest.raises(InputError, match=expected):
        fit_image(_solid(4, 4), 8, 8, mode="zoom")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="uint8"):
        fit_image(np.zeros((4, 4), np.uint8), 8, 8)
    with pytest.raises(ValueError, match="positive"):
        fit_image(_solid(4, 4), 0, 8)


def test_odd_images_load_and_fit(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, 30 * 50).astype(np.uint16).reshape(30, 50)
    Image.fromarray(ramp).save(tmp_path / "g16.png")
    rgb = np.random.default_rng(2).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(
        tmp_path / "p.png"
    )
    alpha = np.zeros((30, 50), np.uint8)
    alpha[:, 25:] = 255
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(tmp_path / "a.png")
    Image.fromarray(rgb[..., 0], "L").save(tmp_path / "l.jpg", quality=95)
    for name in ("g16.png", "p.png", "a.png", "l.jpg"):
        for mode in FIT_MODES:
            out = fit_image(load_image(tmp_path / name), 128, 72, mode=mode)  # type: ignore[arg-type]
            _assert_rgb(out, (72, 128))
    rgba = fit_image(load_image(tmp_path / "a.png"), 100, 60, mode="stretch")
    assert (rgba[:, :45] == 0).all()  # the transparent half is black
    g16 = fit_image(load_image(tmp_path / "g16.png"), 100, 60, mode="stretch")
    assert g16[0, 0, 0] < 10 and g16[-1, -1, 0] > 245
    assert (g16[..., 0] == g16[..., 1]).all()
