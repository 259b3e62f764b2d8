"""Procedural cel-style keyframes (genga) for the demo and for tests.

A girl in a sailor uniform under a cherry tree, drawn with Pillow in flat colours
and dark outlines, changes pose from one keyframe to the next (head turn, arm
raise, blink); the last keyframes are a close-up on a different background, a new
shot that must be cut into, never in-betweened. Shapes are drawn at twice the
size and box-downsampled, which gives smooth outlines and keeps the fills flat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["Pose", "make_demo_keyframes", "shot_plan"]

Color = tuple[int, int, int]
LINE: Color = (34, 28, 40)
SKIN: Color = (255, 224, 203)
HAIR: Color = (74, 60, 124)
HAIR_LIGHT: Color = (112, 96, 170)
IRIS: Color = (40, 140, 160)
SHIRT: Color = (246, 246, 250)
NAVY: Color = (44, 56, 104)
RIBBON: Color = (214, 58, 72)
BLUSH: Color = (247, 178, 178)
MOUTH: Color = (170, 60, 70)
SKY: Color = (168, 212, 240)
HILL: Color = (128, 186, 128)
GROUND: Color = (206, 220, 160)
TRUNK: Color = (120, 84, 70)
BLOSSOM: Color = (246, 192, 212)
PETAL: Color = (252, 214, 226)
SUNSET: tuple[Color, ...] = ((252, 206, 150), (246, 172, 142), (226, 140, 154))


@dataclass(frozen=True)
class Pose:
    """One drawing's pose. Angles in degrees from hanging straight down (180 = up)."""

    shot: str = "wide"  # "wide" (full figure under the tree) or "close" (face, sunset)
    turn: float = 0.0  # head turn, -1 (to the viewer's left) .. 1 (right)
    eyes: str = "open"  # "open" | "closed" | "happy"
    mouth: str = "smile"  # "smile" | "open" | "flat"
    arm_a: float = 12.0  # the arm on the viewer's left
    bend_a: float = 5.0
    arm_b: float = 12.0  # the arm on the viewer's right
    bend_b: float = 5.0
    shift: float = 0.0  # horizontal offset of the figure, fraction of the width


_WIDE = [
    Pose(),
    Pose(turn=0.45, mouth="flat", arm_b=50, bend_b=30, shift=0.01),
    Pose(turn=0.45, eyes="closed", mouth="flat", arm_b=100, bend_b=40, shift=0.015),
    Pose(turn=-0.3, mouth="open", arm_a=25, arm_b=150, bend_b=20, shift=0.02),
    Pose(turn=-0.1, eyes="happy", arm_a=150, bend_a=-20, arm_b=150, bend_b=20, shift=0.02),
]
_CLOSE = [
    Pose(shot="close", mouth="open"),
    Pose(shot="close", turn=0.35),
    Pose(shot="close", turn=0.35, eyes="happy"),
]


def shot_plan(n: int) -> list[str]:
    """Which shot each of ``n`` demo keyframes is: some "wide" ones, then "close" ones."""
    n_close = 0 if n < 3 else max(1, round(n * 3 / 8))
    return ["wide"] * (n - n_close) + ["close"] * n_close


def _poses(n: int) -> list[Pose]:
    shots = shot_plan(n)
    n_wide = shots.count("wide")
    poses = []
    for i in range(n_wide):
        p = _WIDE[i % len(_WIDE)]
        poses.append(replace(p, shift=p.shift + 0.04 * (i // len(_WIDE))))
    for i in range(n - n_wide):
        p = _CLOSE[i % len(_CLOSE)]
        poses.append(replace(p, turn=p.turn - 0.2 * (i // len(_CLOSE))))
    return poses


# ------------------------------------------------------------------ drawing
def _limb(d: ImageDraw.ImageDraw, pts: list[tuple[float, float]], w: float, ol: float,
          fill: Color) -> None:
    """A thick rounded stroke with a dark outline: outline pass, then fill pass."""
    for width, color in ((w + 2 * ol, LINE), (w, fill)):
        d.line(pts, fill=color, width=int(width), joint="curve")
        for x, y in pts:
            rr = width / 2
            d.ellipse((x - rr, y - rr, x + rr, y + rr), fill=color)


def _arm(d: ImageDraw.ImageDraw, shoulder: tuple[float, float], side: int, angle: float,
         bend: float, length: float, w: float, ol: float) -> None:
    def step(p: tuple[float, float], deg: float) -> tuple[float, float]:
        a = math.radians(deg)
        return (p[0] + side * math.sin(a) * length / 2, p[1] + math.cos(a) * length / 2)

    elbow = step(shoulder, angle)
    hand = step(elbow, angle + bend)
    _limb(d, [shoulder, elbow, hand], w, ol, SHIRT)
    r = w * 0.62
    d.ellipse((hand[0] - r, hand[1] - r, hand[0] + r, hand[1] + r), fill=SKIN, outline=LINE,
              width=int(ol))


def _eye(d: ImageDraw.ImageDraw, x: float, y: float, r: float, pose: Pose, ol: float) -> None:
    ew, eh = 0.15 * r, 0.21 * r
    lw = int(ol * 1.3)
    if pose.eyes == "closed":  # lashes down: a shallow "u"
        d.arc((x - ew, y - eh * 0.6, x + ew, y + eh * 0.6), 20, 160, fill=LINE, width=lw)
        return
    if pose.eyes == "happy":  # the "^" of a smiling eye
        d.arc((x - ew, y - eh * 0.2, x + ew, y + eh * 1.0), 200, 340, fill=LINE, width=lw)
        return
    d.ellipse((x - ew, y - eh, x + ew, y + eh), fill=SHIRT, outline=LINE, width=int(ol))
    ix = x + pose.turn * 0.05 * r
    iw, ih = ew * 0.78, eh * 0.82
    d.ellipse((ix - iw, y - ih + eh * 0.12, ix + iw, y + ih), fill=IRIS)
    d.ellipse((ix - iw * 0.45, y - ih * 0.3, ix + iw * 0.45, y + ih * 0.55), fill=LINE)
    hr = iw * 0.32
    d.ellipse((ix - iw * 0.5 - hr, y - ih * 0.5 - hr, ix - iw * 0.5 + hr, y - ih * 0.5 + hr),
              fill=SHIRT)
    # upper lash line: anime eyes are framed by a heavy top lid
    d.line([(x - ew * 1.15, y - eh * 0.75), (x, y - eh * 1.05), (x + ew * 1.15, y - eh * 0.75)],
           fill=LINE, width=int(ol * 2.2), joint="curve")


def _back_hair(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, ol: float) -> None:
    """The long hair behind head and shoulders; drawn before the body."""
    d.rounded_rectangle((cx - 1.2 * r, cy - 0.9 * r, cx + 1.2 * r, cy + 2.2 * r), radius=0.7 * r,
                        fill=HAIR, outline=LINE, width=int(ol))


def _head(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, pose: Pose, ol: float) -> None:
    """Head with front hair, face and features; ``r`` is the head radius in pixels."""
    t = pose.turn
    d.ellipse((cx - r, cy - 1.05 * r, cx + r, cy + r), fill=SKIN, outline=LINE, width=int(ol))
    fx = cx + 0.35 * r * t
    ey = cy + 0.12 * r
    for side in (-1, 1):
        # the far eye is foreshortened and closer to the centre when the head turns
        near = 1.0 - 0.25 * max(0.0, -side * t)
        _eye(d, fx + side * 0.42 * r * near, ey, r, pose, ol)
        bx = fx + side * 0.42 * r * near
        d.arc((bx - 0.13 * r, ey - 0.34 * r, bx + 0.13 * r, ey - 0.22 * r), 200, 340, fill=LINE,
              width=int(ol))
        d.ellipse((bx - 0.13 * r, ey + 0.25 * r, bx + 0.13 * r, ey + 0.33 * r), fill=BLUSH)
    my = cy + 0.58 * r
    mw = 0.12 * r
    if pose.mouth == "open":
        d.ellipse((fx - mw, my - 0.07 * r, fx + mw, my + 0.1 * r), fill=MOUTH, outline=LINE,
                  width=int(ol))
    elif pose.mouth == "smile":
        d.arc((fx - mw, my - 0.12 * r, fx + mw, my + 0.06 * r), 20, 160, fill=LINE, width=int(ol))
    else:
        d.line([(fx - mw * 0.7, my), (fx + mw * 0.7, my)], fill=LINE, width=int(ol))
    # bangs: the arc of the skull, then a jagged fringe back across the forehead
    top = [
        (cx + 1.08 * r * math.cos(a), cy - 0.05 * r - 1.08 * r * math.sin(a))
        for a in np.linspace(math.radians(-12), math.radians(192), 24)
    ]
    fringe = []
    n_tips = 7
    for k in range(n_tips + 1):  # left to right, continuing from where the arc ends
        x = cx - 1.02 * r + 2.04 * r * k / n_tips
        hang = 0.1 * r if k in (0, n_tips) else (-0.3 + 0.1 * (k % 2)) * r
        fringe.append((x + 0.22 * r * t * (1 - abs(k / n_tips - 0.5)), cy + hang))
        if k < n_tips:
            fringe.append((x + r / n_tips + 0.22 * r * t, cy - 0.6 * r))
    d.polygon(top + fringe, fill=HAIR, outline=LINE, width=int(ol))
    # side locks framing the face
    for side in (-1, 1):
        x0 = cx + side * 0.98 * r
        d.polygon([(x0, cy - 0.5 * r), (x0 + side * 0.18 * r, cy + 0.9 * r),
                   (x0 - side * 0.12 * r, cy + 1.25 * r), (x0 - side * 0.2 * r, cy + 0.2 * r)],
                  fill=HAIR, outline=LINE, width=int(ol))
    # a flat highlight band across the crown
    d.arc((cx - 0.78 * r, cy - 0.92 * r, cx + 0.78 * r, cy - 0.1 * r), 200, 250, fill=HAIR_LIGHT,
          width=int(0.07 * r))


def _torso(d: ImageDraw.ImageDraw, cx: float, top: float, u: float, ol: float) -> None:
    """Shirt, sailor collar and ribbon; ``top`` is the shoulder line, ``u`` the unit size."""
    d.polygon([(cx - 9 * u, top), (cx + 9 * u, top), (cx + 7 * u, top + 21 * u),
               (cx - 7 * u, top + 21 * u)], fill=SHIRT, outline=LINE, width=int(ol))
    d.polygon([(cx - 9 * u, top), (cx + 9 * u, top), (cx + 6 * u, top + 5 * u),
               (cx, top + 10 * u), (cx - 6 * u, top + 5 * u)], fill=NAVY, outline=LINE,
              width=int(ol))
    d.polygon([(cx, top + 8 * u), (cx - 3.2 * u, top + 12 * u), (cx - 2 * u, top + 13 * u)],
              fill=RIBBON, outline=LINE, width=int(ol))
    d.polygon([(cx, top + 8 * u), (cx + 3.2 * u, top + 12 * u), (cx + 2 * u, top + 13 * u)],
              fill=RIBBON, outline=LINE, width=int(ol))


def _background_wide(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator,
                     index: int) -> None:
    u = h / 100
    d.rectangle((0, 0, w, h), fill=SKY)
    for _ in range(3):
        x, y = rng.uniform(0.45, 0.95) * w, rng.uniform(0.08, 0.3) * h
        for dx, rr in ((-7, 5), (0, 7), (7, 5)):
            d.ellipse((x + dx * u - rr * u, y - rr * u, x + dx * u + rr * u, y + rr * u),
                      fill=(250, 252, 255))
    hills = [(0.0, h)] + [(x, h * 0.66 - 0.05 * h * math.sin(x / w * 5.0 + 1.0))
                          for x in np.linspace(0, w, 40)] + [(float(w), float(h))]
    d.polygon(hills, fill=HILL)
    d.rectangle((0, int(0.82 * h), w, h), fill=GROUND)
    tx = 0.14 * w
    d.polygon([(tx - 2.5 * u, 0.84 * h), (tx + 2.5 * u, 0.84 * h), (tx + 1.5 * u, 0.3 * h),
               (tx - 1.5 * u, 0.3 * h)], fill=TRUNK, outline=LINE, width=int(0.5 * u))
    for bx, by, rr in ((-8, 26, 13), (8, 22, 14), (0, 12, 14), (-16, 14, 10), (17, 12, 10)):
        d.ellipse((tx + (bx - rr) * u, (by - rr) * u, tx + (bx + rr) * u, (by + rr) * u),
                  fill=BLOSSOM)
    # falling petals drift down a little from one keyframe to the next
    for _ in range(26):
        x = rng.uniform(0, 1) * w + index * 1.5 * u
        y = (rng.uniform(0, 0.9) * h + index * 4 * u) % (0.9 * h)
        d.ellipse((x - 0.9 * u, y - 0.5 * u, x + 0.9 * u, y + 0.5 * u), fill=PETAL)


def _background_close(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> None:
    for k, color in enumerate(SUNSET):
        d.rectangle((0, int(k * h / 3), w, h), fill=color)
    u = h / 100
    for _ in range(9):  # flat "bokeh" discs
        x, y, rr = rng.uniform(0, 1) * w, rng.uniform(0, 1) * h, rng.uniform(3, 9) * u
        d.ellipse((x - rr, y - rr, x + rr, y + rr), fill=(253, 226, 176))


def _draw(pose: Pose, index: int, w: int, h: int, seed: int) -> Image.Image:
    img = Image.new("RGB", (w, h), SKY)
    d = ImageDraw.Draw(img)
    rng = np.random.default_rng(seed)  # same seed for every keyframe: a stable background
    u = h / 100
    ol = max(2.0, 0.55 * u)
    cx = w / 2 + pose.shift * w
    if pose.shot == "close":
        _background_close(d, w, h, rng)
        r = 30 * u
        cy = 50 * u
        _back_hair(d, cx, cy, r, ol * 1.3)
        _limb(d, [(cx, cy + 0.8 * r), (cx, cy + 1.4 * r)], 0.3 * r, ol, SKIN)  # neck
        _torso(d, cx, cy + 1.3 * r, 3.2 * u, ol)
        _head(d, cx, cy, r, pose, ol * 1.3)
        return img
    _background_wide(d, w, h, rng, index)
    r = 11 * u
    cy = 28 * u
    top = 45 * u
    _back_hair(d, cx, cy, r, ol)  # behind everything else of the figure
    for side in (-1, 1):  # legs and shoes
        lx = cx + side * 3.6 * u
        _limb(d, [(lx, 76 * u), (lx, 90 * u)], 3.4 * u, ol, SKIN)
        d.ellipse((lx - 2.6 * u, 89 * u, lx + 2.6 * u, 93 * u), fill=LINE)
    d.polygon([(cx - 7.5 * u, 63 * u), (cx + 7.5 * u, 63 * u), (cx + 12 * u, 78 * u),
               (cx - 12 * u, 78 * u)], fill=NAVY, outline=LINE, width=int(ol))
    _limb(d, [(cx, 38 * u), (cx, top + 1 * u)], 4.2 * u, ol, SKIN)  # neck
    _torso(d, cx, top, u, ol)
    _arm(d, (cx - 8.2 * u, top + 2 * u), -1, pose.arm_a, pose.bend_a, 22 * u, 3.4 * u, ol)
    _arm(d, (cx + 8.2 * u, top + 2 * u), 1, pose.arm_b, pose.bend_b, 22 * u, 3.4 * u, ol)
    _head(d, cx, cy, r, pose, ol)
    return img


def make_demo_keyframes(
    *, n: int = 7, width: int = 1280, height: int = 720, seed: int = 0
) -> list[np.ndarray]:
    """Draw ``n`` cel-style keyframes of one character changing pose.

    Parameters
    ----------
    n
        Number of keyframes (6-8 reads best). The first ones are a wide shot under a
        cherry tree; the last ``round(3n/8)`` (when ``n >= 3``) are a close-up on a
        sunset background, a different shot (see :func:`shot_plan`).
    width, height
        Size of each keyframe in pixels.
    seed
        Seeds the background details (clouds, petals); same seed, same pixels.

    Returns
    -------
    list of numpy.ndarray
        ``n`` uint8 arrays of shape (height, width, 3), RGB.
    """
    frames = []
    for i, pose in enumerate(_poses(n)):
        # drawn at 2x and box-averaged: smooth outlines, flat fills stay exact colours
        big = _draw(pose, i, 2 * width, 2 * height, seed)
        frames.append(np.asarray(big.reduce(2), dtype=np.uint8).copy())
    return frames
