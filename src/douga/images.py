"""Keyframe images: any picture file → ``uint8`` H×W×3 RGB, the one image type of douga.

Artists export keyframes in every mode Pillow knows: RGBA with transparent
backgrounds, grayscale line art, 16-bit scans, palette GIFs, CMYK from print tools.
``load_image`` turns each into plain RGB the same way (transparency composited on
black, 16 bits scaled to 8, EXIF rotation applied) so later stages never see a mode.
Keyframes of other sizes or aspect ratios than the video are then brought to the
output size by ``fit_image`` (letterboxed, cropped or stretched).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from douga.errors import InputError

__all__ = [
    "FIT_MODES",
    "IMAGE_FORMATS",
    "FitMode",
    "check_image",
    "fit_image",
    "load_image",
    "save_frames",
]

log = logging.getLogger(__name__)

IMAGE_FORMATS = "png, jpg, webp, bmp, tiff, gif"
_EXPECTED = f"expected an image file ({IMAGE_FORMATS})"

FitMode = Literal["contain", "cover", "stretch"]
FIT_MODES: tuple[str, ...] = get_args(FitMode)

# EXIF orientations that turn the picture a quarter: width and height swap
_QUARTER_TURNS = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found; {_EXPECTED}")
    if not path.is_file():
        raise InputError(f"{path}: not a file; {_EXPECTED}")


def _open(path: Path) -> Image.Image:
    _check_file(path)
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image Pillow can read; {_EXPECTED}") from None
    except Image.DecompressionBombError as e:
        raise InputError(f"{path}: image too large to load safely ({e})") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; cannot read the file") from None
    except MemoryError:
        raise
    except Exception as e:  # Pillow's header parsers raise many types on a damaged file
        raise InputError(f"{path}: corrupt image ({e or type(e).__name__}); {_EXPECTED}") from None


def load_image(path: str | Path) -> np.ndarray:
    """Decode an image file into RGB.

    Parameters
    ----------
    path : str or Path
        Any image Pillow reads (png, jpg, webp, bmp, tiff, gif...); for animated files
        the first frame is used.

    Returns
    -------
    np.ndarray
        ``uint8``, shape (height, width, 3), RGB, C-contiguous and writable. Transparent
        pixels are composited on black; 16-bit images are scaled to 8 bits; the EXIF
        orientation (phone photos) is applied.

    Raises
    ------
    InputError
        The file is missing, is not an image, or is corrupt or truncated.
    """
    p = Path(path)
    with _open(p) as im:
        try:
            im.load()
            return _to_rgb(_upright(im, p))
        except Image.DecompressionBombError as e:
            raise InputError(f"{p}: image too large to load safely ({e})") from None
        except MemoryError:
            raise
        except Exception as e:  # truncated data, bad compression streams, broken chunks
            raise InputError(
                f"{p}: corrupt or truncated image ({e or type(e).__name__}); {_EXPECTED}"
            ) from None


def _upright(im: Image.Image, path: Path) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception as e:  # a broken EXIF block must not cost the picture
        log.warning("%s: ignoring unreadable EXIF orientation (%s)", path, e)
        return im


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Pixels of ``im`` as uint8 H×W×3 RGB, whatever its mode."""
    mode = im.mode
    if mode == "RGB":
        return np.array(im, dtype=np.uint8)
    if mode.startswith("I;16") or mode == "I":
        return _gray3(_scale_wide_ints(np.asarray(im), sixteen_bit=mode != "I"))
    if mode == "F":
        return _gray3(_scale_floats(np.asarray(im, dtype=np.float32)))
    if mode == "L":
        return _gray3(np.asarray(im, dtype=np.uint8))
    if mode == "1":
        return _gray3(np.asarray(im.convert("L"), dtype=np.uint8))
    if mode in ("RGBa", "La"):
        # premultiplied alpha: the colour channels already are the picture over black
        rgb = np.asarray(im, dtype=np.uint8)[..., :-1]
        return _gray3(rgb[..., 0]) if mode == "La" else np.ascontiguousarray(rgb)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if has_alpha else "RGB")
        mode = im.mode
        if mode == "RGB":
            return np.array(im, dtype=np.uint8)
    if mode in ("RGBA", "LA"):
        arr = np.asarray(im, dtype=np.uint8)
        color = arr[..., :-1].astype(np.uint16)
        alpha = arr[..., -1:].astype(np.uint16)
        over_black = ((color * alpha + 127) // 255).astype(np.uint8)
        return _gray3(over_black[..., 0]) if mode == "LA" else np.ascontiguousarray(over_black)
    # CMYK, YCbCr, LAB, HSV, RGBX...: Pillow knows the conversion
    return np.array(im.convert("RGB"), dtype=np.uint8)


def _gray3(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(gray[..., None], 3, axis=2), dtype=np.uint8)


def _scale_wide_ints(arr: np.ndarray, *, sixteen_bit: bool) -> np.ndarray:
    """16-bit (or 32-bit integer) gray → 8 bits.

    Mode "I" is used both for 16-bit files and for plain integer data: values that fit
    in 0..255 are taken as 8-bit, anything larger as 16-bit.
    """
    x = arr.astype(np.int64)
    if sixteen_bit or (x.size and x.max() > 255):
        x = (np.clip(x, 0, 65535) * 255 + 32767) // 65535
    return np.clip(x, 0, 255).astype(np.uint8)


def _scale_floats(arr: np.ndarray) -> np.ndarray:
    """Float gray → 8 bits: data within 0..1 is scaled by 255, anything else clipped."""
    x = np.nan_to_num(arr, nan=0.0, posinf=255.0, neginf=0.0)
    if x.size and float(x.max()) <= 1.0:
        x = x * 255.0
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def check_image(path: str | Path) -> tuple[int, int]:
    """Check that a file is a decodable image, cheaply, and return its size.

    PNG and most formats are checked for structural damage (chunk checksums) without
    decompressing the pixels; JPEG is decoded at 1/8 scale, which finds a truncated
    file at a fraction of the cost of a full decode.

    Returns
    -------
    (width, height) : tuple of int
        In pixels, as ``load_image`` will return it (after EXIF rotation).

    Raises
    ------
    InputError
        The file is missing, is not an image, or is corrupt or truncated.
    """
    p = Path(path)
    with _open(p) as im:
        try:
            width, height = im.size
            if _orientation(im) in _QUARTER_TURNS:
                width, height = height, width
            if im.format == "JPEG":
                im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                im.load()
            else:
                im.verify()
        except MemoryError:
            raise
        except Exception as e:
            raise InputError(
                f"{p}: corrupt or truncated image ({e or type(e).__name__}); {_EXPECTED}"
            ) from None
    return int(width), int(height)


def _orientation(im: Image.Image) -> int | None:
    """EXIF orientation tag, read from the header only (never decoding pixels)."""
    try:
        if im.format == "PNG":
            # PNG's getexif() decodes the whole image to find a late eXIf chunk; the
            # chunk before the pixels (where writers put it) is already in info
            raw = im.info.get("exif")
            if not raw:
                return None
            exif = Image.Exif()
            exif.load(raw)
        else:
            exif = im.getexif()
        value = exif.get(_EXIF_ORIENTATION)
        return int(value) if value is not None else None
    except Exception:  # unreadable EXIF: load_image ignores it the same way
        return None


# ------------------------------------------------------------------------- fitting
def fit_image(img: np.ndarray, width: int, height: int, *, mode: FitMode = "contain") -> np.ndarray:
    """Bring an image to exactly ``width``×``height`` pixels.

    Parameters
    ----------
    img : np.ndarray
        ``uint8`` (h, w, 3) RGB, as ``load_image`` returns it.
    width, height : int
        The output size in pixels (the video's frame size).
    mode : {"contain", "cover", "stretch"}, keyword-only
        ``contain`` (default) scales the whole picture to fit inside and centres it on
        black bars; ``cover`` scales it to fill the frame and crops the overflow
        equally from both sides; ``stretch`` scales each axis on its own, ignoring
        the aspect ratio.

    Returns
    -------
    np.ndarray
        ``uint8`` (height, width, 3) RGB. It is ``img`` itself when that already has
        the size; otherwise a new array (``img`` is never modified). Shrinking uses
        area averaging (no aliasing of fine lines), enlarging Lanczos.

    Raises
    ------
    InputError
        ``mode`` is not one of the three (the message names the ``fit`` field).
    ValueError
        ``img`` is not uint8 (h, w, 3), or the size is not positive.
    """
    if mode not in FIT_MODES:
        raise InputError(f"fit: got {mode!r}; expected one of {', '.join(FIT_MODES)}")
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3 or 0 in img.shape:
        raise ValueError(f"expected a uint8 (h, w, 3) image, got {img.dtype} {img.shape}")
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise ValueError(f"expected a positive output size, got {width}x{height}")
    h, w = img.shape[:2]
    if (w, h) == (width, height):
        return img
    if mode == "stretch":
        return _resize(img, width, height)
    if mode == "cover":
        # crop first, then resize: less work, and the same picture
        scale = max(width / w, height / h)
        crop_w = min(w, max(1, round(width / scale)))
        crop_h = min(h, max(1, round(height / scale)))
        x0, y0 = (w - crop_w) // 2, (h - crop_h) // 2
        return _resize(img[y0 : y0 + crop_h, x0 : x0 + crop_w], width, height)
    scale = min(width / w, height / h)
    new_w = min(width, max(1, round(w * scale)))
    new_h = min(height, max(1, round(h * scale)))
    inner = _resize(img, new_w, new_h)
    if (new_w, new_h) == (width, height):
        return inner
    out = np.zeros((height, width, 3), dtype=np.uint8)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    out[y0 : y0 + new_h, x0 : x0 + new_w] = inner
    return out


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    if (w, h) == (width, height):
        return np.ascontiguousarray(img)
    import cv2  # here: `douga analyze` and project checks load images.py without resizing

    # area averaging when the picture loses pixels; Lanczos keeps lines crisp when it gains
    interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_LANCZOS4
    out = cv2.resize(np.ascontiguousarray(img), (width, height), interpolation=interp)
    return np.ascontiguousarray(out, dtype=np.uint8)


def save_frames(frames: Iterable[np.ndarray], folder: str | Path, *, first_index: int = 1) -> int:
    """Write frames as ``folder/0001.png, 0002.png …`` (numbered from ``first_index``).

    The frames are written into a hidden folder first and moved in only when all of
    them are done, so an error halfway leaves no partial sequence behind.
    Returns the number of frames written.
    """
    import shutil
    import tempfile

    out = Path(folder)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=".partial-"))
    except OSError as e:
        raise InputError(f"{out}: cannot create the folder ({e.strerror or e})") from None
    names = []
    try:
        for k, frame in enumerate(frames, start=first_index):
            name = f"{k:04d}.png"
            Image.fromarray(frame).save(staging / name, compress_level=1)
            names.append(name)
        for name in names:
            os.replace(staging / name, out / name)
        return len(names)
    except OSError as e:
        raise InputError(f"{out}: cannot write the frames ({e.strerror or e})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(out.iterdir()):  # a failed run leaves no empty folder
            out.rmdir()
