"""Lyric text: fonts, missing-glyph checks, line timing, wrapping and text layers.

Lyric lines (``douga.music.lyrics``) appear at their time, stay until their end or the
next line, and fade in and out. Each line's text layer (fill, outline and alpha) is
rendered once with Pillow and alpha-blended onto the frames that show it.
"""

from __future__ import annotations

import importlib.util
import math
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from douga.effects.style import EffectStyle
from douga.errors import InputError, MissingDependency

if TYPE_CHECKING:
    from douga.music.lyrics import LyricLine

__all__ = ["bundled_font_path", "check_font", "load_font", "missing_glyphs"]

LAST_LINE_SECONDS = 5.0  # how long a last LRC line (no end time) stays up
TEXT_WIDTH = 0.90  # lyric lines wrap to this share of the frame width
TEXT_MARGIN = 0.06  # distance of the text block from the top/bottom edge, of the height
LINE_SPACING = 0.2  # extra space between wrapped lines, of the font size

BUNDLED_FONT = "DejaVuSans-Bold.ttf"  # ships inside matplotlib (DejaVu licence)


# ----------------------------------------------------------------------- fonts
def bundled_font_path() -> Path:
    """The default lyric font: DejaVu Sans Bold as shipped inside matplotlib.

    Raises
    ------
    MissingDependency
        matplotlib (a douga dependency) is not installed or lacks its fonts.
    """
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(
            "the default lyric font comes with matplotlib; install it (pip install matplotlib) "
            "or name a font with effects.font"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    path = path / BUNDLED_FONT
    if not path.is_file():
        raise MissingDependency(
            f"{path}: matplotlib's DejaVu font is missing; reinstall matplotlib or name a "
            "font with effects.font"
        )
    return path


def _font_file(style: EffectStyle) -> Path:
    return style.font if style.font is not None else bundled_font_path()


def check_font(style: EffectStyle) -> None:
    """A clear InputError now, before a render starts, for a font file that cannot be used."""
    load_font(_font_file(style), size=_CHECK_SIZE, index=style.font_index)


@lru_cache(maxsize=32)
def _cached_font(path: str, size: int, index: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=size, index=index)


def load_font(path: Path | str, *, size: int, index: int = 0) -> ImageFont.FreeTypeFont:
    """A Pillow font from a font file, cached.

    Parameters
    ----------
    path : Path or str
        A .ttf, .otf or .ttc file.
    size : int, keyword-only
        Size in pixels.
    index : int, keyword-only
        Face inside a collection.

    Raises
    ------
    InputError
        The file is missing, unreadable or not a font (the message names
        ``effects.font`` and the path).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"effects.font: {p}: file not found; expected a .ttf, .otf or .ttc font")
    if not p.is_file():
        raise InputError(f"effects.font: {p}: not a file; expected a .ttf, .otf or .ttc font")
    try:
        return _cached_font(str(p), int(size), int(index))
    except PermissionError:
        raise InputError(f"effects.font: {p}: permission denied; cannot read the font") from None
    except (OSError, ValueError) as e:
        raise InputError(
            f"effects.font: {p}: not a font Pillow can read ({e}); expected a .ttf, .otf or "
            f".ttc file (font_index {index} within a collection)"
        ) from None


# one FreeType face is not safe to use from two threads at once; fonts are cached and
# shared, and text is drawn only once per lyric line, so one lock costs nothing
_FONT_LOCK = threading.Lock()
_NOT_A_CHAR = "\U0010ffff"  # a noncharacter: no font maps it, so it draws the .notdef box
_CHECK_SIZE = 24


def _glyph_print(font: ImageFont.FreeTypeFont, ch: str) -> tuple[tuple[float, ...], bytes]:
    mask = font.getmask(ch)
    return tuple(font.getbbox(ch)), np.asarray(mask).tobytes()


@lru_cache(maxsize=8192)
def _lacks(path: str, index: int, ch: str) -> bool:
    font = _cached_font(path, _CHECK_SIZE, index)
    # Pillow cannot ask the cmap, but a missing glyph draws exactly as .notdef does
    with _FONT_LOCK:
        return _glyph_print(font, ch) == _glyph_print(font, _NOT_A_CHAR)


def _needs_glyph(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Cs")


def missing_glyphs(text: str, *, font: Path | str, index: int = 0) -> str:
    """The characters of ``text`` the font has no glyph for (each once, in order).

    Spaces and invisible format characters are never reported.

    Raises
    ------
    InputError
        The font file is missing or unreadable.
    """
    p = Path(font)
    load_font(p, size=_CHECK_SIZE, index=index)  # a clear error for a bad file
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in seen and _needs_glyph(ch) and _lacks(str(p), index, ch):
            seen[ch] = None
    return "".join(seen)


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x1100 <= cp <= 0x11FF  # Hangul Jamo
        or 0x2E80 <= cp <= 0x9FFF  # CJK radicals, kana, CJK unified
        or 0xAC00 <= cp <= 0xD7AF  # Hangul syllables
        or 0xF900 <= cp <= 0xFAFF  # CJK compatibility ideographs
        or 0xFF00 <= cp <= 0xFFEF  # full-width forms
        or 0x20000 <= cp <= 0x3FFFF  # CJK extensions
    )


def _check_coverage(lines: Sequence[LyricLine], style: EffectStyle) -> None:
    path = _font_file(style)
    for line in lines:
        missing = missing_glyphs(line.text, font=path, index=style.font_index)
        if not missing:
            continue
        shown = line.text if len(line.text) <= 40 else line.text[:39] + "…"
        where = f"lyric line at {int(line.start // 60)}:{line.start % 60:05.2f} ({shown!r})"
        if any(_is_cjk(c) for c in missing):
            hint = (
                "name a CJK font with effects.font, for example Noto Sans CJK "
                "(Debian package fonts-noto-cjk) or WenQuanYi Micro Hei (fonts-wqy-microhei)"
            )
        else:
            hint = "name a font that has them with effects.font"
        raise InputError(
            f"effects.font: {path} has no glyph for {missing!r} in the {where}; {hint}"
        )


# ---------------------------------------------------------------------- lyrics
@dataclass(frozen=True)
class _Shown:
    """A lyric line as shown: seconds on screen, fades, and its first/last frame."""

    index: int
    text: str
    start: float
    end: float
    fade_in: float
    fade_out: float
    first: int
    last: int


def _schedule_lines(lines: Sequence[LyricLine], *, fps: float, style: EffectStyle) -> list[_Shown]:
    ordered = sorted(enumerate(lines), key=lambda il: (il[1].start, il[0]))
    out: list[_Shown] = []
    for j, (i, line) in enumerate(ordered):
        if not line.text.strip() or not math.isfinite(line.start):
            continue
        nxt = ordered[j + 1][1].start if j + 1 < len(ordered) else math.inf
        end = line.end if line.end is not None else min(nxt, line.start + LAST_LINE_SECONDS)
        end = min(end, nxt)  # one line at a time: overlapping cues would print over each other
        duration = end - line.start
        if not duration > 0:
            continue
        fade_in, fade_out = style.fade_in, style.fade_out
        if fade_in + fade_out > duration:  # a short line still reaches full opacity midway
            shrink = duration / (fade_in + fade_out)
            fade_in, fade_out = fade_in * shrink, fade_out * shrink
        first = math.ceil(line.start * fps - 1e-9)
        last = math.ceil(end * fps - 1e-9) - 1  # frames i with i / fps < end
        if last < first:
            continue
        out.append(_Shown(i, line.text, line.start, end, fade_in, fade_out, first, last))
    return out


def _opacity(shown: _Shown, index: int, fps: float) -> float:
    # measured to the end of the frame, so the first frame of a line already shows it
    t = index / fps
    a = 1.0
    if shown.fade_in > 0:
        a = min(a, (t - shown.start + 1.0 / fps) / shown.fade_in)
    if shown.fade_out > 0:
        a = min(a, (shown.end - t) / shown.fade_out)
    return min(max(a, 0.0), 1.0)


_NO_LINE_START = frozenset(
    "、。，．,.!?！？」』）)]｝〕〉》】ー～…・:;：；"  # closing marks
    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"  # small kana
)


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy wrap by words; a word (or a run of CJK text) too wide breaks between chars."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= max_width:
                line = candidate
                continue
            if line:
                out.append(line)
                line = ""
            # the word alone: split it where it must (CJK has no spaces to break at)
            for ch in word:
                # closing punctuation never starts a line (it may overhang a little)
                if line and ch not in _NO_LINE_START and font.getlength(line + ch) > max_width:
                    out.append(line)
                    line = ""
                line += ch
        if line:
            out.append(line)
    return out


@dataclass(frozen=True)
class _Layer:
    """A rendered lyric line: colours (h, w, 3) uint8, coverage (h, w) float32 0..1, origin."""

    color: np.ndarray
    alpha: np.ndarray
    x: int
    y: int


def _render_layer(text: str, width: int, height: int, style: EffectStyle) -> _Layer:
    size = max(6, round(style.font_size * height))
    font = load_font(_font_file(style), size=size, index=style.font_index)
    with _FONT_LOCK:
        return _draw_layer(text, width, height, style, font, size)


def _draw_layer(
    text: str,
    width: int,
    height: int,
    style: EffectStyle,
    font: ImageFont.FreeTypeFont,
    size: int,
) -> _Layer:
    stroke = round(style.outline_width * size)
    rows = _wrap(text, font, TEXT_WIDTH * width - 2 * stroke)
    block = "\n".join(rows)
    spacing = round(LINE_SPACING * size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    kw: dict[str, Any] = {
        "font": font,
        "spacing": spacing,
        "align": "center",
        "stroke_width": stroke,
    }
    box = probe.multiline_textbbox((0, 0), block, **kw)
    left, top = math.floor(box[0]), math.floor(box[1])
    right, bottom = math.ceil(box[2]), math.ceil(box[3])
    pad = 2
    w, h = max(1, right - left + 2 * pad), max(1, bottom - top + 2 * pad)
    origin = (pad - left, pad - top)
    # two masks drawn with the same stroke width, so both lay the text out the same way:
    # the whole letter with its outline (coverage), and the fill alone (colour mix)
    cover = Image.new("L", (w, h), 0)
    ImageDraw.Draw(cover).multiline_text(origin, block, fill=255, stroke_fill=255, **kw)
    fill = Image.new("L", (w, h), 0)
    ImageDraw.Draw(fill).multiline_text(origin, block, fill=255, stroke_fill=0, **kw)
    fill_a = np.asarray(fill, dtype=np.float32)[..., None] / 255.0
    text_rgb = np.asarray(style.text_color, dtype=np.float32)
    outline_rgb = np.asarray(style.outline_color, dtype=np.float32)
    color = np.rint(outline_rgb + (text_rgb - outline_rgb) * fill_a).astype(np.uint8)
    alpha = np.asarray(cover, dtype=np.float32) / 255.0
    x = (width - w) // 2
    margin = round(TEXT_MARGIN * height)
    if style.position == "top":
        y = margin
    elif style.position == "center":
        y = (height - h) // 2
    else:
        y = height - margin - h
    return _Layer(color=color, alpha=alpha, x=x, y=y)


def _blend_layer(out: np.ndarray, layer: _Layer, opacity: float) -> None:
    """Alpha-blend ``layer`` into ``out`` in place, clipped to the frame."""
    height, width = out.shape[:2]
    h, w = layer.alpha.shape
    x0, y0 = max(layer.x, 0), max(layer.y, 0)
    x1, y1 = min(layer.x + w, width), min(layer.y + h, height)
    if x1 <= x0 or y1 <= y0:
        return
    lx, ly = x0 - layer.x, y0 - layer.y
    over = layer.alpha[ly : ly + y1 - y0, lx : lx + x1 - x0] * np.float32(opacity)
    under = np.float32(1.0) - over
    src = layer.color[ly : ly + y1 - y0, lx : lx + x1 - x0]
    roi = out[y0:y1, x0:x1]
    import cv2  # here, not at the top: project.py imports douga.effects for EffectStyle

    # one fused pass in OpenCV; the same blend in numpy float32 is ~5× slower
    roi[...] = cv2.blendLinear(roi, src, under, over)
