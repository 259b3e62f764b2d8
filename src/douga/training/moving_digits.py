"""Moving digits: a Moving-MNIST-style clip data set, drawn offline from a font, with captions.

Each clip shows a few white digits on black bouncing inside a square frame. The
digits are rendered with Pillow's bundled scalable font
(``ImageFont.load_default(size=...)``, no download and no system font), at a random
size, stroke thickness and small rotation, so the set is not ten fixed glyphs.
Every digit moves at a constant random velocity and bounces off the borders; the
caption says, truthfully, where each one goes::

    "the 3 moves right and down, bounces off the bottom wall and moves right and up;
     the 7 moves left"

Directions come from the signs of the velocity (``right``/``left`` first, then
``up``/``down``; a zero component is not mentioned). Clip ``i`` of seed ``s`` is
drawn from its own random generator ``default_rng([s, i])``: the same seed gives
the same data set, and a bigger ``clips`` only appends clips. Each clip is its own
scene and goes to a split by :func:`~douga.training.clips.split_of_scene` of
``"moving-digits-{seed}-{i}"``.

The frames are ``uint8`` RGB with three equal channels, as every douga image.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from douga.errors import InputError
from douga.training.clips import ClipWriter, split_of_scene

__all__ = ["DigitsClip", "make_digits_clip", "write_moving_digits"]

ProgressFn = Callable[[str, float], None]

FPS = 24.0
MIN_SIZE = 16  # frame side below which two digits cannot move visibly
GLYPH_HEIGHT = (0.30, 0.45)  # digit height, fraction of the frame side
SPEED = (1.0, 2.5)  # per-axis speed in pixels per frame at 64 px (scaled with the size)
MAX_TILT = 15.0  # degrees
STILL_AXIS = 0.2  # chance that one axis of a digit's velocity is zero


@dataclass(frozen=True)
class DigitsClip:
    """One generated clip and the ground truth behind its caption.

    Attributes
    ----------
    frames
        (T, S, S, 3) uint8, white digits on black.
    text
        The caption.
    digits
        (D,) the digit drawn for each object, 0..9.
    positions
        (T, D, 2) top-left corner (x, y) of each digit's glyph box in pixels, as drawn.
    bounces
        Per digit, the frame indices at which it bounced (the first frame drawn after it).
    """

    frames: np.ndarray
    text: str
    digits: tuple[int, ...]
    positions: np.ndarray
    bounces: tuple[tuple[int, ...], ...]


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _glyph(digit: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A digit about ``height`` px tall, white on black, tight box: (h, w) uint8."""
    font_size = max(6, round(height * 1.35))  # the font's digits are ~0.74 of its size
    stroke = int(rng.integers(0, 2)) if font_size >= 18 else 0
    canvas = Image.new("L", (2 * font_size, 2 * font_size), 0)
    ImageDraw.Draw(canvas).text((font_size // 2, font_size // 4), str(digit), fill=255,
                                font=_font(font_size), stroke_width=stroke, stroke_fill=255)
    tilt = float(rng.uniform(-MAX_TILT, MAX_TILT))
    canvas = canvas.rotate(tilt, resample=Image.Resampling.BICUBIC, expand=True)
    box = canvas.getbbox()
    assert box is not None, "a digit renders to at least one pixel"
    return np.asarray(canvas.crop(box), dtype=np.uint8)


def _direction(vx: float, vy: float) -> str:
    words = []
    if vx:
        words.append("right" if vx > 0 else "left")
    if vy:
        words.append("down" if vy > 0 else "up")
    return " and ".join(words)


def _walls(hit_x: int, hit_y: int) -> str:
    """``hit_*``: -1 (left/top), 0, 1 (right/bottom) -> "the right wall", "the top left corner"."""
    x = {-1: "left", 0: "", 1: "right"}[hit_x]
    y = {-1: "top", 0: "", 1: "bottom"}[hit_y]
    return f"the {y} {x} corner" if x and y else f"the {x or y} wall"


def make_digits_clip(
    rng: np.random.Generator, *, frames: int = 20, size: int = 64, digits: int = 2
) -> DigitsClip:
    """Draw one moving-digits clip.

    Parameters
    ----------
    rng
        The clip's random generator (all randomness comes from it).
    frames
        Number of frames T.
    size
        Frame side S in pixels.
    digits
        Number of moving digits D; they are all different.

    Returns
    -------
    DigitsClip
        The frames (T, S, S, 3) uint8, the caption and the trajectories behind it.
    """
    if frames < 2 or size < MIN_SIZE or not 1 <= digits <= 10:
        raise ValueError(f"frames={frames}, size={size}, digits={digits}: out of range")
    canvas = np.zeros((frames, size, size), dtype=np.uint8)  # (T, S, S)
    chosen = tuple(int(d) for d in rng.choice(10, size=digits, replace=False))
    positions = np.zeros((frames, digits, 2), dtype=np.int64)  # (T, D, 2) x, y
    phrases: list[str] = []
    bounces: list[tuple[int, ...]] = []
    scale = size / 64.0
    for k, digit in enumerate(chosen):
        glyph = _glyph(digit, round(size * rng.uniform(*GLYPH_HEIGHT)), rng)  # (h, w)
        gh, gw = glyph.shape
        room = np.array([size - gw, size - gh], dtype=float)  # top-left range, (x, y)
        pos = rng.uniform(0.0, 1.0, size=2) * room
        speed = np.maximum(rng.uniform(*SPEED, size=2) * scale, 1.0)  # >= 1: every frame moves
        vel = speed * rng.choice([-1.0, 1.0], size=2)
        if rng.random() < STILL_AXIS:
            vel[int(rng.integers(0, 2))] = 0.0
        parts = ["moves " + _direction(*vel)]
        hits: list[int] = []
        for t in range(frames):
            if t:
                pos = pos + vel
                hit = [0, 0]
                for a in range(2):  # reflect off the walls; a digit never leaves the frame
                    if pos[a] < 0:
                        pos[a], vel[a], hit[a] = -pos[a], -vel[a], -1
                    elif pos[a] > room[a]:
                        pos[a], vel[a], hit[a] = 2 * room[a] - pos[a], -vel[a], 1
                    pos[a] = min(max(pos[a], 0.0), room[a])  # a glyph wider than room/2
                if any(hit):
                    hits.append(t)
                    parts.append(f"bounces off {_walls(*hit)} and moves {_direction(*vel)}")
            x, y = (math.floor(p + 0.5) for p in pos)
            positions[t, k] = (x, y)
            window = canvas[t, y:y + gh, x:x + gw]
            np.maximum(window, glyph, out=window)
        phrases.append(f"the {digit} " + ", ".join(parts))
        bounces.append(tuple(hits))
    rgb = np.repeat(canvas[..., None], 3, axis=-1)  # (T, S, S, 3)
    return DigitsClip(frames=rgb, text="; ".join(phrases), digits=chosen,
                      positions=positions, bounces=tuple(bounces))


MAX_SIZE = 1024  # frame side: a clip is held in memory while it is drawn
MAX_FRAMES = 1000


def check_settings(*, clips: int, seed: int, frames: int, size: int, val: float, test: float,
                   min_frames: int = 3, min_size: int = MIN_SIZE) -> None:
    """Raise :class:`InputError` naming the CLI option when a setting is out of range."""
    if clips < 1:
        raise InputError(f"--clips {clips}: expected at least 1 clip")
    if seed < 0:
        raise InputError(f"--seed {seed}: expected a seed >= 0")
    if not min_frames <= frames <= MAX_FRAMES:
        raise InputError(f"--frames {frames}: expected {min_frames} to {MAX_FRAMES} frames "
                         "per clip")
    if not min_size <= size <= MAX_SIZE:
        raise InputError(f"--size {size}: expected {min_size} to {MAX_SIZE} pixels")
    for name, value in (("--val", val), ("--test", test)):
        if not 0.0 <= value < 1.0:
            raise InputError(f"{name} {value}: expected a fraction in [0, 1)")
    if val + test >= 1.0:
        raise InputError(f"--val {val} + --test {test}: expected a sum below 1 (train is the rest)")


def write_moving_digits(
    out_dir: str | Path,
    *,
    clips: int = 10000,
    seed: int = 0,
    frames: int = 20,
    size: int = 64,
    digits: int = 2,
    val: float = 0.1,
    test: float = 0.1,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> dict[str, int]:
    """Write a moving-digits clip data set to ``out_dir`` (see the module docstring).

    Parameters
    ----------
    out_dir
        The folder to create (atomically; nothing is left there on failure).
    clips
        Total number of clips over all splits.
    seed
        Same seed, same data set.
    frames, size, digits
        Frames per clip, frame side in pixels, digits per clip.
    val, test
        Fractions of clips in the validation and test splits.
    overwrite
        Replace ``out_dir`` if it exists.
    progress
        Called with ``(stage, fraction done)``.

    Returns
    -------
    dict
        Clips per split.
    """
    check_settings(clips=clips, seed=seed, frames=frames, size=size, val=val, test=test)
    if not 1 <= digits <= 10:
        raise InputError(f"--digits {digits}: expected 1 to 10 digits per clip")
    info = {"source": "moving-digits", "generator": __name__, "seed": seed, "clips": clips,
            "frames": frames, "size": size, "digits": digits, "val": val, "test": test}
    with ClipWriter(out_dir, height=size, width=size, fps=FPS, info=info,
                    overwrite=overwrite) as writer:
        for i in range(clips):
            clip = make_digits_clip(np.random.default_rng([seed, i]), frames=frames,
                                    size=size, digits=digits)
            split = split_of_scene(f"moving-digits-{seed}-{i}", val=val, test=test)
            writer.add(split, clip.frames, text=clip.text, scene=i)
            if progress is not None and (i % 64 == 0 or i == clips - 1):
                progress("moving digits", (i + 1) / clips)
        return writer.counts()
