"""Captioned cel animation: flat-colour figures that move as their captions say.

A clip shows one cel-style figure (flat two-tone fill, dark outline) on a plain or
vertical-gradient background, moving with anime easing (slow in, slow out). The set
is built to make text conditioning *measurable*: every clip belongs to a caption
group, and all the alternatives of a group share the first and the last frame, so
only the caption tells a model which in-between path to draw.

=========  ==================================================  ============================
group      alternatives (first / last frame shared)            measured from the frames
=========  ==================================================  ============================
travel     ``hop`` (arc above), ``slide`` (straight line),     mean offset of the centroid
           ``swoop`` (arc below), from A to B left or right    from the chord A-B
return     ``up``, ``down``, ``left``, ``right``: out and      direction of the largest
           back to the start; ``still``: a hold                centroid displacement
loop       ``clockwise``, ``counterclockwise``: one circle     sign of the area swept by
           back to the start                                   the centroid (shoelace)
spin       ``clockwise``, ``counterclockwise``: a half turn    sign of the turn of the
           of a bar, oval or diamond (same pose at the end)    mask's principal axis
=========  ==================================================  ============================

Captions read ``"the [small|big] <colour> <shape> <phrase>"``, e.g. "the red ball hops
over to the right", "the small blue bar spins counterclockwise"; each alternative has
a few phrasings (:data:`GROUPS`). :func:`parse_caption` maps a caption back to its
group and alternative, :func:`recaption` rewrites it to another alternative (to ask a
model for a path the clip does not show), :func:`alternative_paths` gives the
centre and angle of the figure on every frame for each alternative of a scene, and
:func:`measure_alternative` tells from frames alone -- real or generated -- which
alternative happened. It finds the figure as the pixels that differ from their row's
median colour (backgrounds are constant along rows and a figure covers less than
half a row), so it needs no ground truth; a 3x3 vote drops speckle, and the answer
stays right on frames blurred and noised (sigma 10 grey levels) like a decoder's.

Clip ``i`` of seed ``s`` is drawn from ``default_rng([s, i])`` and goes to the split
:func:`~douga.training.clips.split_of_scene` of ``"cel-{seed}-{i}"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from douga.training.clips import ClipWriter, split_of_scene
from douga.training.moving_digits import check_settings

__all__ = [
    "GROUPS", "OPPOSITES", "CelClip", "CelScene", "alternative_of", "alternative_paths",
    "caption", "cel_path", "figure_axis", "figure_track", "make_cel_clip",
    "measure_alternative", "parse_caption", "path_numbers", "random_scene", "recaption",
    "render_cel", "write_cel",
]

ProgressFn = Callable[[str, float], None]
Color = tuple[int, int, int]

FPS = 24.0
MIN_SIZE = 32
MIN_FRAMES = 6  # a half turn or a loop needs steps well under 90 degrees to be readable
SUPERSAMPLE = 4  # figures are drawn 4x larger and box-downsampled: smooth outlines, flat fills
LINE: Color = (34, 28, 40)
MASK_THRESHOLD = 60  # summed |RGB - row background| above which a pixel is figure

COLORS: dict[str, Color] = {
    "red": (222, 58, 62), "orange": (244, 140, 36), "yellow": (246, 212, 52),
    "green": (64, 172, 84), "blue": (56, 110, 224), "purple": (148, 78, 200),
    "pink": (244, 122, 174), "white": (246, 246, 246),
}
BACKGROUNDS: tuple[Color, ...] = (
    (168, 212, 240), (250, 240, 220), (204, 236, 212), (222, 212, 246), (252, 214, 190),
    (200, 200, 206), (40, 50, 92), (92, 70, 122), (24, 28, 36), (120, 170, 130),
)
SHAPES = ("ball", "square", "triangle", "star", "diamond", "bar", "oval")
SPIN_SHAPES = ("bar", "oval", "diamond")  # elongated: the principal axis shows the turn
SYMMETRY = {"ball": 360.0, "square": 90.0, "triangle": 120.0, "star": 72.0,
            "diamond": 180.0, "bar": 180.0, "oval": 180.0}  # degrees of a turn that looks the same

GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "travel": {
        "hop": ("hops over to the {side}", "jumps over to the {side}", "leaps to the {side}"),
        "slide": ("slides to the {side}", "glides straight to the {side}",
                  "moves in a straight line to the {side}"),
        "swoop": ("swoops down and over to the {side}", "dips down on its way to the {side}",
                  "ducks under on its way to the {side}"),
    },
    "return": {
        "up": ("moves up and comes back", "rises and comes back down", "jumps up and lands back"),
        "down": ("moves down and comes back", "sinks and comes back up",
                 "ducks down and comes back up"),
        "left": ("moves left and comes back", "steps to the left and back",
                 "darts left and returns"),
        "right": ("moves right and comes back", "steps to the right and back",
                  "darts right and returns"),
        "still": ("stays still", "holds still", "does not move"),
    },
    "loop": {
        "clockwise": ("circles clockwise", "loops around clockwise",
                      "goes round in a clockwise circle"),
        "counterclockwise": ("circles counterclockwise", "loops around counterclockwise",
                             "goes round in a counterclockwise circle"),
    },
    "spin": {
        "clockwise": ("spins clockwise", "turns half a turn clockwise", "rotates clockwise"),
        "counterclockwise": ("spins counterclockwise", "turns half a turn counterclockwise",
                             "rotates counterclockwise"),
    },
}
#: Opposite alternatives and the :func:`path_numbers` number that is larger (positive)
#: for the first and smaller (negative) for the second: (group, first, second, number).
OPPOSITES: tuple[tuple[str, str, str, str], ...] = (
    ("travel", "hop", "swoop", "lift"),
    ("return", "down", "up", "mean_y"),
    ("return", "right", "left", "mean_x"),
    ("loop", "clockwise", "counterclockwise", "area"),
    ("spin", "clockwise", "counterclockwise", "turn"),
)
_RETURN_DIRECTIONS = {"up": (0.0, -1.0), "down": (0.0, 1.0), "left": (-1.0, 0.0),
                      "right": (1.0, 0.0), "still": (0.0, 0.0)}


@dataclass(frozen=True)
class CelScene:
    """What a clip shows, apart from its motion alternative. Lengths in pixels.

    ``start``/``end`` are the figure's centre (x, y) on the first and last frame (equal
    except in ``travel``); ``amplitude`` is the arc height (travel), the distance out
    (return) or the circle radius (loop); ``heading`` is the start's angle around the
    loop centre (radians); ``angle`` the figure's orientation on the first frame (degrees,
    clockwise on screen); ``top``/``bottom`` the background colours (equal: plain).
    """

    group: str
    shape: str
    color: str
    size: int
    radius: float
    start: tuple[float, float]
    end: tuple[float, float]
    amplitude: float = 0.0
    heading: float = 0.0
    angle: float = 0.0
    top: Color = BACKGROUNDS[0]
    bottom: Color = BACKGROUNDS[0]

    @property
    def side(self) -> str:
        """``"right"`` or ``"left"``: where a travel goes."""
        return "right" if self.end[0] >= self.start[0] else "left"


@dataclass(frozen=True)
class CelClip:
    """One generated clip: frames (T, S, S, 3) uint8, caption, and the truth behind it."""

    frames: np.ndarray
    text: str
    scene: CelScene
    alternative: str
    centres: np.ndarray  # (T, 2) x, y px
    angles: np.ndarray  # (T,) degrees


def ease(t: np.ndarray) -> np.ndarray:
    """Slow in, slow out: 0 -> 0, 1 -> 1, flat at both ends (cosine ease)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.asarray(t, dtype=float))


def cel_path(scene: CelScene, alternative: str, *, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the figure is on each frame: centres (T, 2) x, y px and angles (T,) degrees."""
    alternatives = GROUPS[scene.group]
    if alternative not in alternatives:
        raise ValueError(f"alternative {alternative!r}: expected one of {list(alternatives)}")
    s = ease(np.linspace(0.0, 1.0, frames))  # (T,) progress
    p0, p1 = np.array(scene.start), np.array(scene.end)
    angles = np.full(frames, scene.angle)
    sign = 1.0 if alternative == "clockwise" else -1.0  # +angle is clockwise with y down
    if scene.group == "travel":
        centres = p0 + s[:, None] * (p1 - p0)
        lift = {"hop": -1.0, "slide": 0.0, "swoop": 1.0}[alternative]
        centres[:, 1] += lift * scene.amplitude * np.sin(np.pi * s)
    elif scene.group == "return":
        out = np.array(_RETURN_DIRECTIONS[alternative]) * scene.amplitude
        centres = p0 + np.sin(np.pi * s)[:, None] * out
    elif scene.group == "loop":
        theta = scene.heading + sign * 2.0 * np.pi * s
        hub = p0 - scene.amplitude * np.array([math.cos(scene.heading), math.sin(scene.heading)])
        centres = hub + scene.amplitude * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    elif scene.group == "spin":
        centres = np.repeat(p0[None], frames, axis=0)
        angles = scene.angle + sign * SYMMETRY[scene.shape] * s
    else:
        raise ValueError(f"group {scene.group!r}: expected one of {list(GROUPS)}")
    centres[0], centres[-1] = p0, p1  # exact, so the end frames match across alternatives
    return centres, angles


def alternative_paths(scene: CelScene, *, frames: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`cel_path` of every alternative of the scene's group, by name."""
    return {alt: cel_path(scene, alt, frames=frames) for alt in GROUPS[scene.group]}


def _vertices(shape: str, r: float, angle: float) -> np.ndarray:
    """(N, 2) polygon of a figure of half-extent about ``r`` px, centred on 0, turned."""
    def ring(n: int, rx: float, ry: float, phase: float = 0.0) -> np.ndarray:
        a = phase + np.linspace(0.0, 2 * np.pi, n, endpoint=False)
        return np.stack([rx * np.cos(a), ry * np.sin(a)], axis=1)

    if shape == "ball":
        pts = ring(48, r, r)
    elif shape == "square":
        pts = ring(4, 1.1 * r, 1.1 * r, np.pi / 4)
    elif shape == "triangle":
        pts = ring(3, 1.1 * r, 1.1 * r, -np.pi / 2)
    elif shape == "star":
        pts = ring(10, 1.15 * r, 1.15 * r, -np.pi / 2)
        pts[1::2] *= 0.45
    elif shape == "diamond":
        pts = ring(4, 0.6 * r, 1.1 * r)
    elif shape == "bar":
        pts = np.array([[-1.1, -0.38], [1.1, -0.38], [1.1, 0.38], [-1.1, 0.38]]) * r
    elif shape == "oval":
        pts = ring(40, 1.1 * r, 0.55 * r)
    else:
        raise ValueError(f"shape {shape!r}: expected one of {SHAPES}")
    a = math.radians(angle)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    return pts @ rot  # (x, y) -> (x cos - y sin, x sin + y cos): clockwise on screen


def _figure(scene: CelScene, angle: float,
            offset: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """A figure patch: premultiplied colour (P, P, 3) and coverage (P, P), floats in [0, 1].

    ``offset`` (each in [0, 1)) is the sub-pixel position of the centre in the patch.
    """
    ss = SUPERSAMPLE
    period = SYMMETRY[scene.shape]
    angle = round(angle % period, 6) % period  # a turn by the symmetry: the very same pixels
    patch = 2 * math.ceil(1.25 * scene.radius) + 2  # P
    centre = np.array([patch / 2 + offset[0], patch / 2 + offset[1]])
    pts = (_vertices(scene.shape, scene.radius, angle) + centre) * ss
    lit = pts - scene.radius * 0.22 * ss  # light from the top left: shadow at the bottom right
    line = max(1.0, scene.radius * 0.16) * ss

    n = patch * ss
    base = COLORS[scene.color]
    shadow = (round(base[0] * 0.72), round(base[1] * 0.72), round(base[2] * 0.72))
    im = Image.new("RGBA", (n, n), (*shadow, 255))
    draw = ImageDraw.Draw(im)
    draw.polygon(lit.ravel().tolist(), fill=base)
    draw.polygon(pts.ravel().tolist(), outline=LINE, width=round(line))  # inside the polygon
    fill = Image.new("L", (n, n), 0)
    ImageDraw.Draw(fill).polygon(pts.ravel().tolist(), fill=255)
    im.putalpha(fill)  # everything outside the figure is transparent
    small = np.asarray(im.convert("RGBa").reduce(ss), dtype=float) / 255.0  # (P, P, 4)
    return small[..., :3], small[..., 3]


def _background(scene: CelScene) -> np.ndarray:
    """(S, S, 3) float in [0, 1]: constant along rows, top colour to bottom colour."""
    w = np.linspace(0.0, 1.0, scene.size)[:, None]
    rows = (1 - w) * np.array(scene.top) + w * np.array(scene.bottom)  # (S, 3)
    return np.repeat(rows[:, None, :], scene.size, axis=1) / 255.0


def render_cel(scene: CelScene, alternative: str, *, frames: int) -> np.ndarray:
    """Draw the clip of ``scene`` moving as ``alternative`` says: (T, S, S, 3) uint8."""
    centres, angles = cel_path(scene, alternative, frames=frames)
    bg = _background(scene)
    out = np.empty((frames, scene.size, scene.size, 3), dtype=np.uint8)
    ss = SUPERSAMPLE
    for t in range(frames):
        q = np.round(centres[t] * ss) / ss  # quarter-pixel positions
        corner = np.floor(q).astype(int)
        premult, cover = _figure(scene, float(angles[t]), (q[0] - corner[0], q[1] - corner[1]))
        p = cover.shape[0]
        x0, y0 = corner[0] - p // 2, corner[1] - p // 2
        frame = bg.copy()
        ya, yb = max(y0, 0), min(y0 + p, scene.size)
        xa, xb = max(x0, 0), min(x0 + p, scene.size)
        region = frame[ya:yb, xa:xb]
        c = cover[ya - y0:yb - y0, xa - x0:xb - x0, None]
        region[:] = region * (1 - c) + premult[ya - y0:yb - y0, xa - x0:xb - x0]
        out[t] = np.clip(np.round(frame * 255), 0, 255).astype(np.uint8)
    return out


def _q(x: float) -> float:
    """Quarter pixels: float sums then land on the same drawing position in every path."""
    return round(x * SUPERSAMPLE) / SUPERSAMPLE


def random_scene(rng: np.random.Generator, *, size: int = 64, group: str | None = None
                 ) -> CelScene:
    """Draw a scene: group, figure, colours, background and a start/end that fit every
    alternative of the group inside the frame."""
    group = group or str(rng.choice(list(GROUPS)))
    if group not in GROUPS:
        raise ValueError(f"group {group!r}: expected one of {list(GROUPS)}")
    shape = str(rng.choice(SPIN_SHAPES if group == "spin" else SHAPES))
    radius = _q(size * rng.uniform(0.10, 0.17))
    color = str(rng.choice(list(COLORS)))
    while True:  # a background the figure stands out from
        top = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
        bottom = top if rng.random() < 0.4 else BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
        if all(np.abs(np.subtract(COLORS[color], c)).sum() > 150 for c in (top, bottom)):
            break
    margin = 1.25 * radius + 1.0  # centre to border: the figure plus a pixel of air
    half = size / 2
    room = half - margin  # how far the centre may go from the frame centre
    start = end = (half, half)
    amplitude = heading = 0.0
    angle = float(rng.uniform(-25.0, 25.0))
    if group == "travel":
        amplitude = _q(min(size * rng.uniform(0.16, 0.24), room))
        dist = size * rng.uniform(0.3, 0.5)
        x0 = rng.uniform(margin, size - margin - dist)
        y0 = half + rng.uniform(-1, 1) * (room - amplitude)
        start, end = (x0, y0), (x0 + dist, y0)
        if rng.random() < 0.5:
            start, end = (size - x0, y0), (size - x0 - dist, y0)
    elif group == "return":
        amplitude = _q(min(size * rng.uniform(0.18, 0.26), room))
        x, y = half + rng.uniform(-1, 1, size=2) * (room - amplitude)
        start = end = (float(x), float(y))
    elif group == "loop":
        amplitude = _q(min(size * rng.uniform(0.14, 0.2), room / 2))
        heading = float(rng.uniform(0, 2 * np.pi))
        x, y = half + rng.uniform(-1, 1, size=2) * (room - amplitude)  # the loop's hub
        start = end = (x + amplitude * math.cos(heading), y + amplitude * math.sin(heading))
    else:
        angle = float(rng.uniform(0.0, 180.0))
        x, y = rng.uniform(margin, size - margin, size=2)
        start = end = (float(x), float(y))
    return CelScene(group=group, shape=shape, color=color, size=size, radius=radius,
                    start=(_q(start[0]), _q(start[1])), end=(_q(end[0]), _q(end[1])),
                    amplitude=amplitude, heading=heading, angle=round(angle, 2),
                    top=top, bottom=bottom)


def caption(scene: CelScene, alternative: str, *, phrasing: int = 0) -> str:
    """``"the [small|big] <colour> <shape> <phrase>"`` for ``alternative`` of the scene."""
    phrases = GROUPS[scene.group][alternative]
    phrase = phrases[phrasing % len(phrases)].format(side=scene.side)
    rel = scene.radius / scene.size
    size_word = "small " if rel < 0.12 else "big " if rel > 0.15 else ""
    return f"the {size_word}{scene.color} {scene.shape} {phrase}"


def make_cel_clip(rng: np.random.Generator, *, frames: int = 20, size: int = 64,
                  group: str | None = None) -> CelClip:
    """Draw one captioned cel clip (all randomness from ``rng``); see the module docstring."""
    scene = random_scene(rng, size=size, group=group)
    alternative = str(rng.choice(list(GROUPS[scene.group])))
    text = caption(scene, alternative, phrasing=int(rng.integers(3)))
    centres, angles = cel_path(scene, alternative, frames=frames)
    return CelClip(frames=render_cel(scene, alternative, frames=frames), text=text, scene=scene,
                   alternative=alternative, centres=centres, angles=angles)


_PHRASES = [(re.compile(re.escape(p).replace(re.escape("{side}"), "(?P<side>left|right)") + "$"),
             group, alt) for group, alts in GROUPS.items() for alt, ps in alts.items() for p in ps]
_SUBJECT = re.compile(r"^the (?:(?:small|big) )?(?:\w+) (?:" + "|".join(SHAPES) + ") ")


def parse_caption(text: str) -> tuple[str, str]:
    """``(group, alternative)`` of a cel caption; ValueError if it is not one."""
    subject = _SUBJECT.match(text)
    if subject:
        rest = text[subject.end():]
        for pattern, group, alt in _PHRASES:
            if pattern.match(rest):
                return group, alt
    raise ValueError(f"caption {text!r}: not a cel caption")


def recaption(text: str, alternative: str) -> str:
    """The same caption asking for another alternative of its group (first phrasing)."""
    subject = _SUBJECT.match(text)
    group, _ = parse_caption(text)
    assert subject is not None  # parse_caption matched it
    side = re.search(r"\b(left|right)$", text)
    phrase = GROUPS[group][alternative][0].format(side=side.group(1) if side else "right")
    return text[:subject.end()] + phrase


# ----------------------------------------------------------------------------- measuring
def figure_mask(frames: np.ndarray) -> np.ndarray:
    """(T, H, W) bool: the figure, the largest blob of pixels that differ from the
    median colour of their row.

    A pixel counts only with at least three neighbours that count, so speckle noise
    (in generated frames) stays out while a figure loses at most its antialiased rim;
    of what is left, each frame keeps its largest 8-connected blob, so a blotch that a
    decoder leaves elsewhere (in a corner, at a border) does not pull the centroid or
    the axis.
    """
    from scipy import ndimage

    f = np.asarray(frames, dtype=np.int16)  # (T, H, W, 3)
    bg = np.median(f, axis=2, keepdims=True)  # (T, H, 1, 3): rows are constant backgrounds
    raw = np.pad(np.abs(f - bg).sum(axis=-1) > MASK_THRESHOLD, ((0, 0), (1, 1), (1, 1)))
    h, w = f.shape[1:3]
    votes = sum(raw[:, i:i + h, j:j + w].astype(np.int8) for i in range(3) for j in range(3))
    mask = raw[:, 1:-1, 1:-1] & (votes >= 4)
    for frame in mask:
        labels, n = ndimage.label(frame, structure=np.ones((3, 3)))
        if n > 1:
            frame[:] = labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    return mask


def figure_track(frames: np.ndarray) -> np.ndarray:
    """(T, 2) centroid x, y of the figure on each frame, px (NaN where none is found)."""
    return _centroids(figure_mask(frames))


def figure_axis(frames: np.ndarray) -> np.ndarray:
    """(T,) direction of the figure's principal axis, degrees in [0, 180), clockwise on screen."""
    m = figure_mask(frames)
    return _axes(m, _centroids(m))


def _centroids(m: np.ndarray) -> np.ndarray:
    """(T, 2) centroid x, y of each frame's mask (T, H, W) (NaN where it is empty)."""
    ys, xs = np.mgrid[: m.shape[1], : m.shape[2]]
    n = m.sum(axis=(1, 2)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.stack([(m * xs).sum(axis=(1, 2)) / n, (m * ys).sum(axis=(1, 2)) / n], axis=1)


def _axes(m: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(T,) principal-axis direction (degrees) of each frame's mask about its centroid ``c``."""
    ys, xs = np.mgrid[: m.shape[1], : m.shape[2]]
    dx = xs[None] - c[:, 0, None, None]
    dy = ys[None] - c[:, 1, None, None]
    mxx, myy, mxy = ((m * v).sum(axis=(1, 2)) for v in (dx * dx, dy * dy, dx * dy))
    return np.degrees(0.5 * np.arctan2(2 * mxy, mxx - myy)) % 180.0


def path_numbers(frames: np.ndarray, group: str) -> dict[str, float]:
    """The figure's path in a clip (T, H, W, 3) as the numbers :func:`measure_alternative`
    decides from; empty where the figure is found on fewer than three frames.

    travel: ``lift``, the mean offset (px) of the centroid above the straight line from
    the first to the last centroid (below: negative); return: ``far_x``/``far_y``, the
    largest centroid displacement from the first frame, and ``mean_x``/``mean_y``, the
    mean displacement (px, y down); loop: ``area``, the area the centroid path encloses
    (px², clockwise on screen positive); spin: ``turn``, the summed frame-to-frame turn
    of the principal axis (degrees, clockwise positive).
    """
    frames = np.asarray(frames)
    if group not in GROUPS:
        raise ValueError(f"group {group!r}: expected one of {list(GROUPS)}")
    mask = figure_mask(frames)
    track = _centroids(mask)  # (T, 2)
    c = track[~np.isnan(track).any(axis=1)]
    if len(c) < 3:
        return {}
    if group == "travel":
        chord = c[-1] - c[0]
        normal = np.array([chord[1], -chord[0]]) / max(float(np.hypot(*chord)), 1e-9)
        normal *= -1.0 if normal[1] > 0 else 1.0  # points up the screen
        return {"lift": float(((c[1:-1] - c[0]) @ normal).mean())}
    if group == "return":
        d = c - c[0]
        far = d[int(np.argmax(np.hypot(d[:, 0], d[:, 1])))]
        mean = d[1:-1].mean(axis=0)
        return {"far_x": float(far[0]), "far_y": float(far[1]),
                "mean_x": float(mean[0]), "mean_y": float(mean[1])}
    if group == "loop":
        x, y = c[:, 0], c[:, 1]
        return {"area": 0.5 * float((x * np.roll(y, -1) - np.roll(x, -1) * y).sum())}
    axis = _axes(mask, track)
    axis = axis[~np.isnan(axis)]
    step = (np.diff(axis) + 90.0) % 180.0 - 90.0  # each turn step in [-90, 90)
    return {"turn": float(step.sum())}


def measure_alternative(frames: np.ndarray, group: str) -> str:
    """Which alternative of ``group`` the clip (T, H, W, 3) shows, or ``"unclear"``.

    From :func:`path_numbers`: travel: ``lift`` over 4 % of the frame side is ``hop``,
    under -4 % ``swoop``, else ``slide``; return: the largest displacement under 6 % is
    ``still``, else its main direction; loop: the sign of the enclosed area (under 1 %
    of the frame: unclear); spin: the sign of the turn (under 45 degrees: unclear).
    """
    frames = np.asarray(frames)
    return alternative_of(path_numbers(frames, group), group, side=float(frames.shape[2]))


def alternative_of(n: dict[str, float], group: str, *, side: float) -> str:
    """:func:`measure_alternative` from numbers :func:`path_numbers` already gave, for
    frames ``side`` pixels wide."""
    if not n:
        return "unclear"
    if group == "travel":
        lift = n["lift"]
        return "slide" if abs(lift) < 0.04 * side else "hop" if lift > 0 else "swoop"
    if group == "return":
        far_x, far_y = n["far_x"], n["far_y"]
        if np.hypot(far_x, far_y) < 0.06 * side:
            return "still"
        if abs(far_x) > abs(far_y):
            return "right" if far_x > 0 else "left"
        return "down" if far_y > 0 else "up"
    if group == "loop":
        if abs(n["area"]) < 0.01 * side * side:
            return "unclear"
        return "clockwise" if n["area"] > 0 else "counterclockwise"
    if abs(n["turn"]) < 45.0:
        return "unclear"
    return "clockwise" if n["turn"] > 0 else "counterclockwise"


# ------------------------------------------------------------------------------ writing
def write_cel(
    out_dir: str | Path,
    *,
    clips: int = 10000,
    seed: int = 0,
    frames: int = 20,
    size: int = 64,
    val: float = 0.1,
    test: float = 0.1,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> dict[str, int]:
    """Write a captioned cel clip data set to ``out_dir`` (see the module docstring).

    Parameters are those of :func:`~douga.training.moving_digits.write_moving_digits`:
    total clips, seed, frames per clip, frame side in pixels, val/test fractions,
    ``overwrite`` and a ``progress(stage, fraction)`` callback. Returns clips per split.
    ``dataset.json`` ``info`` records the caption groups and their phrasings.
    """
    check_settings(clips=clips, seed=seed, frames=frames, size=size, val=val, test=test,
                   min_frames=MIN_FRAMES, min_size=MIN_SIZE)
    info = {"source": "cel", "generator": __name__, "seed": seed, "clips": clips,
            "frames": frames, "size": size, "val": val, "test": test,
            "caption": "the [small|big] <colour> <shape> <phrase>",
            "groups": {g: {a: list(p) for a, p in alts.items()} for g, alts in GROUPS.items()},
            "shapes": list(SHAPES), "colors": list(COLORS),
            "measure": f"{__name__}.measure_alternative(frames, group)"}
    with ClipWriter(out_dir, height=size, width=size, fps=FPS, info=info,
                    overwrite=overwrite) as writer:
        for i in range(clips):
            clip = make_cel_clip(np.random.default_rng([seed, i]), frames=frames, size=size)
            split = split_of_scene(f"cel-{seed}-{i}", val=val, test=test)
            writer.add(split, clip.frames, text=clip.text, scene=i)
            if progress is not None and (i % 32 == 0 or i == clips - 1):
                progress("cel", (i + 1) / clips)
        return writer.counts()
