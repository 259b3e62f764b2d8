"""MAD frame effects (flash, zoom punch, decaying shake), drawn with the lyric text.

The planner schedules :class:`~douga.timeline.model.EffectEvent` s; this module draws
them onto finished frames, after in-betweening. Every output frame is a pure function
of (frame, frame index, fps, all events, style, lyrics): an effect that starts on
frame 100 and lasts six frames is recomputed from the event on frame 103, never
carried over from frame 102. The renderer can therefore render, cache and resume any
shot on its own and get the same pixels whatever the order.

Effect shapes (durations are seconds, so they look the same at any fps):

* **flash** — the frame is blended toward the flash colour, up to
  ``FLASH_PEAK · strength`` on the event frame, fading quadratically over
  ``FLASH_SECONDS``.
* **zoom** punch — scaled up about the centre by ``ZOOM_AMOUNT · strength`` at once,
  easing back (quadratic ease-out) over ``ZOOM_SECONDS``.
* **shake** — a damped oscillation at ``SHAKE_HZ`` along a pseudo-random axis (seeded
  by the event frame, so always the same), starting at its largest offset,
  ``SHAKE_AMOUNT · strength`` of the frame height, and dying out over
  ``SHAKE_SECONDS``; the frame is scaled just enough to hide the border.

Every effect changes the picture most from the frame before the event to the event
frame itself, and less on each frame after: the hit *is* the visual accent, on the
beat the planner put it on. A cosine ease back, or a shake that flips direction on
every frame (its second step is twice its first), would put the largest
frame-to-frame change a few frames after the beat, where ``douga eval sync`` sees a
second, off-beat accent.

Overlapping events combine: zooms add, shake offsets add, flashes screen
(1 − ∏(1 − a)). Zoom and shake become one resample (a crop and a resize); the flash
and the lyric text follow, so the text stays steady and readable. A frame with nothing active is
returned as it came, with no copy.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from douga.effects.style import EffectStyle
from douga.effects.text import (
    _blend_layer,
    _check_coverage,
    _font_file,
    _Layer,
    _opacity,
    _render_layer,
    _schedule_lines,
    _Shown,
)
from douga.errors import InputError

if TYPE_CHECKING:
    # only named in annotations: importing douga.timeline pulls in the planner, and the
    # project file model embeds EffectStyle, so loading a project must stay light
    from douga.music.lyrics import LyricLine
    from douga.timeline.model import EffectEvent

__all__ = ["EFFECT_KINDS", "FrameEffects", "apply_effects", "effect_span"]

EFFECT_KINDS = ("flash", "zoom", "shake")

FLASH_SECONDS = 0.15  # 4 frames at 24 fps: a flash is a hit, not a fade
FLASH_PEAK = 0.85  # blend toward the flash colour at strength 1; full white hides the cut
ZOOM_SECONDS = 0.25  # 6 frames at 24 fps
ZOOM_AMOUNT = 0.10  # scale 1.10 at strength 1
SHAKE_SECONDS = 0.30  # 8 frames at 24 fps
SHAKE_AMOUNT = 0.02  # peak offset as a share of the frame height (14 px at 720p)
# oscillation frequency: at most fps/4, so that from the first offset the picture
# moves back less far than it jumped out (5 frames a period at 24 fps)
SHAKE_HZ = 4.8
MAX_ZOOM = 0.30  # stacked punches never blow the picture up more than this
_LAYER_CACHE_SIZE = 16  # rendered lyric layers kept (a few MB each at 1080p)
_SHAKE_SEED = 0x5AC3  # mixed with the event frame so each shake has its own path


# ------------------------------------------------------------------ effect timing
def _duration_frames(seconds: float, fps: float) -> int:
    return max(1, math.ceil(seconds * fps - 1e-9))


_SECONDS = {"flash": FLASH_SECONDS, "zoom": ZOOM_SECONDS, "shake": SHAKE_SECONDS}


def _check_event(event: EffectEvent, where: str) -> float:
    """The event's strength clipped to [0, 1]; InputError for an unknown kind."""
    if event.kind not in EFFECT_KINDS:
        raise InputError(
            f"{where}.kind: got {event.kind!r}; expected one of {', '.join(EFFECT_KINDS)}"
        )
    s = float(event.strength)
    if not math.isfinite(s):
        raise InputError(f"{where}.strength: got {event.strength!r}; expected a number 0..1")
    return min(max(s, 0.0), 1.0)


def effect_span(
    event: EffectEvent, *, fps: float, style: EffectStyle | None = None
) -> tuple[int, int] | None:
    """The output frames an effect event changes.

    Parameters
    ----------
    event : EffectEvent
        From the timeline.
    fps : float, keyword-only
        Output frame rate.
    style : EffectStyle, keyword-only
        The effect style; default :class:`EffectStyle` ().

    Returns
    -------
    (first, last) : tuple of int, or None
        Inclusive frame range (``first`` is the event frame), or None when the event
        changes nothing (strength 0, or its kind switched off by the style).
    """
    style = style if style is not None else EffectStyle()
    strength = _check_event(event, "effect")
    if strength * style.multiplier(event.kind) <= 0.0:
        return None
    n = _duration_frames(_SECONDS[event.kind], fps)
    return int(event.frame), int(event.frame) + n - 1


def _flash_weight(k: int, n: int) -> float:
    return (1.0 - k / n) ** 2


def _zoom_weight(k: int, n: int) -> float:
    # ease-out: the release is fastest right after the hit and slows down, so no
    # frame of it changes the picture as much as the hit (a cosine would peak mid-way)
    return (1.0 - k / n) ** 2


def _shake_weight(k: int, n: int) -> float:
    return (1.0 - k / n) ** 2


@lru_cache(maxsize=256)
def _shake_path(frame: int, n: int, fps: float) -> np.ndarray:
    """Offsets (n, 2) for a shake starting on ``frame``, damped: the same every time.

    Row 0 is a unit vector, the largest offset; the rest is a damped cosine at
    :data:`SHAKE_HZ` along an axis that wobbles a little, so each step is smaller
    than the jump onto row 0.
    """
    rng = np.random.default_rng([_SHAKE_SEED, frame % (1 << 32)])  # seeds must be ≥ 0
    angle0 = rng.uniform(0.0, 2.0 * math.pi)
    k = np.arange(n)
    # a wobbling axis: a shake, not a slide along one line
    angles = angle0 + np.concatenate(([0.0], rng.uniform(-0.35, 0.35, n - 1)))
    # at most a quarter turn of phase a frame: below fps/4 Hz the picture never
    # swings back further than it jumped out
    omega = min(2.0 * math.pi * SHAKE_HZ / fps, 0.5 * math.pi)
    radii = np.cos(omega * k) * np.array([_shake_weight(int(i), n) for i in k])
    path = np.stack([np.cos(angles) * radii, np.sin(angles) * radii], axis=1)
    path.setflags(write=False)
    return path


@dataclass(frozen=True)
class _Active:
    """One event as drawn: kind, effective strength, start frame, length in frames."""

    kind: str
    strength: float
    frame: int
    frames: int


def _zoom_and_shift(frame: np.ndarray, scale: float, dx: float, dy: float) -> np.ndarray:
    """``frame`` scaled by ``scale`` ≥ 1 about its centre and moved by (dx, dy) pixels.

    One bilinear affine warp, exact to the sub-pixel. A crop and a resize is faster
    (about 1.7 times at 720p), but it snaps the window to whole pixels, and at a light
    zoom punch those snaps make the release jerk: a frame of it can change the picture
    more than the one before, a visual accent off the beat. The caller makes ``scale``
    big enough that the picture still covers the frame; the border is replicated for
    the rounding at the very edge.
    """
    height, width = frame.shape[:2]
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    m = np.array(
        [[scale, 0.0, (1.0 - scale) * cx + dx], [0.0, scale, (1.0 - scale) * cy + dy]],
        dtype=np.float64,
    )
    import cv2

    return cv2.warpAffine(
        frame, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


# ------------------------------------------------------------------ the renderer
class FrameEffects:
    """Draws the effects and lyrics of a whole video onto its frames, one at a time.

    Build it once per render; :meth:`apply` is then a pure function of the frame and
    its index (results do not depend on which frames were drawn before, or in what
    order, or on which thread). Rendered lyric layers are cached.

    Parameters
    ----------
    events : sequence of EffectEvent
        The timeline's effect events (any order).
    fps : float, keyword-only
        Output frame rate.
    style : EffectStyle, keyword-only
        Default :class:`EffectStyle` (); :meth:`EffectStyle.none` draws nothing.
    lyrics : sequence of LyricLine, keyword-only
        Timed lyric lines (from ``load_lyrics``); drawn when ``style.lyric_text``.

    Raises
    ------
    InputError
        An event of an unknown kind or a non-finite strength; a missing or unreadable
        font; lyric characters the font has no glyph for (e.g. CJK text with the
        default font).
    """

    def __init__(
        self,
        events: Sequence[EffectEvent],
        *,
        fps: float,
        style: EffectStyle | None = None,
        lyrics: Sequence[LyricLine] = (),
    ) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        self.fps = float(fps)
        self.style = style if style is not None else EffectStyle()
        active: list[_Active] = []
        for i, event in enumerate(events):
            strength = _check_event(event, f"effects[{i}]")
            s = strength * self.style.multiplier(event.kind)
            if s > 0.0:
                n = _duration_frames(_SECONDS[event.kind], self.fps)
                active.append(_Active(event.kind, s, int(event.frame), n))
        active.sort(key=lambda a: (a.frame, EFFECT_KINDS.index(a.kind), a.strength))
        self._events = active
        self._starts = [a.frame for a in active]
        self._longest = max((a.frames for a in active), default=0)
        self._lines: list[_Shown] = []
        if self.style.lyric_text and lyrics:
            self._lines = _schedule_lines(lyrics, fps=self.fps, style=self.style)
            if self._lines:
                _check_coverage([lyrics[s.index] for s in self._lines], self.style)
        self._line_firsts = [s.first for s in self._lines]
        self._layers: OrderedDict[tuple[int, int, int], _Layer] = OrderedDict()
        self._lock = threading.Lock()

    # -- what is active where
    def _events_at(self, index: int) -> list[_Active]:
        if not self._events:
            return []
        lo = bisect.bisect_left(self._starts, index - self._longest + 1)
        hi = bisect.bisect_right(self._starts, index)
        return [a for a in self._events[lo:hi] if index < a.frame + a.frames]

    def _line_at(self, index: int) -> _Shown | None:
        j = bisect.bisect_right(self._line_firsts, index) - 1
        if j >= 0 and self._lines[j].last >= index:
            return self._lines[j]
        return None

    def touches(self, index: int) -> bool:
        """Whether frame ``index`` is changed by any effect or lyric line."""
        return bool(self._events_at(index)) or self._line_at(index) is not None

    def signature(self, first: int, last: int) -> str:
        """A digest of everything that decides frames ``first..last`` (inclusive).

        Equal digests mean :meth:`apply` changes those frames the same way: a shot
        cache can key on it. It covers the style, the fps, the events and lyric lines
        that reach into the range, and the font file (size and modification time).
        """
        events = [
            (a.kind, round(a.strength, 9), a.frame)
            for a in self._events
            if a.frame <= last and a.frame + a.frames - 1 >= first
        ]
        lines = [
            (s.text, s.start, s.end, s.first, s.last)
            for s in self._lines
            if s.first <= last and s.last >= first
        ]
        font: list[object] = []
        if lines:
            path = _font_file(self.style)
            st = path.stat()
            font = [str(path), st.st_size, st.st_mtime_ns]
        payload = json.dumps(
            [self.style.model_dump(mode="json"), self.fps, events, lines, font],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    # -- drawing
    def _layer(self, shown: _Shown, width: int, height: int) -> _Layer:
        key = (shown.index, width, height)
        with self._lock:
            layer = self._layers.get(key)
            if layer is not None:
                self._layers.move_to_end(key)
                return layer
        layer = _render_layer(shown.text, width, height, self.style)
        with self._lock:
            self._layers[key] = layer
            while len(self._layers) > _LAYER_CACHE_SIZE:
                self._layers.popitem(last=False)
        return layer

    def apply(self, frame: np.ndarray, index: int) -> np.ndarray:
        """Draw what is active on frame ``index``.

        Parameters
        ----------
        frame : np.ndarray
            ``uint8`` (h, w, 3) RGB, never modified.
        index : int
            The output frame number (0-based; time ``index / fps``).

        Returns
        -------
        np.ndarray
            ``frame`` itself when nothing is active, else a new uint8 (h, w, 3) array.
        """
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected a uint8 (h, w, 3) frame, got {frame.dtype} {frame.shape}")
        events = self._events_at(index)
        shown = self._line_at(index)
        if not events and shown is None:
            return frame
        height, width = frame.shape[:2]
        zoom = 0.0
        dx = dy = 0.0
        keep = 1.0  # share of the picture the flashes leave
        for a in events:
            k = index - a.frame
            if a.kind == "zoom":
                zoom += ZOOM_AMOUNT * a.strength * _zoom_weight(k, a.frames)
            elif a.kind == "shake":
                amp = SHAKE_AMOUNT * height * a.strength
                ox, oy = _shake_path(a.frame, a.frames, self.fps)[k]
                dx += amp * float(ox)
                dy += amp * float(oy)
            else:
                keep *= 1.0 - min(1.0, FLASH_PEAK * a.strength) * _flash_weight(k, a.frames)
        out = frame
        if zoom > 0.0 or dx != 0.0 or dy != 0.0:
            # enough scale that a shaken picture never shows its border
            cover = 1.0 + 2.0 * max(abs(dx) / width, abs(dy) / height)
            scale = max(1.0 + min(zoom, MAX_ZOOM), cover)
            out = _zoom_and_shift(frame, scale, dx, dy)
        if keep < 1.0:
            flash = 1.0 - keep
            color = np.asarray(self.style.flash_color, dtype=np.float64)
            m = np.zeros((3, 4), dtype=np.float64)
            m[:, :3] = np.eye(3) * keep
            m[:, 3] = color * flash
            import cv2

            # in place when ``out`` is already a new array: one big allocation less
            out = cv2.transform(out, m, dst=None if out is frame else out)
        if shown is not None:
            opacity = _opacity(shown, index, self.fps)
            if opacity > 0.0:
                if out is frame:
                    out = frame.copy()
                _blend_layer(out, self._layer(shown, width, height), opacity)
        if out is not frame:
            out = np.ascontiguousarray(out, dtype=np.uint8)
        return out


def apply_effects(
    frame: np.ndarray,
    index: int,
    *,
    fps: float,
    events: Sequence[EffectEvent],
    style: EffectStyle | None = None,
    lyrics: Sequence[LyricLine] = (),
) -> np.ndarray:
    """Draw the effects and lyrics active on one frame (see :class:`FrameEffects`).

    A convenience for single frames; to draw a whole video build one
    :class:`FrameEffects` and call its ``apply``, which keeps the rendered text.

    Returns
    -------
    np.ndarray
        ``frame`` itself when nothing is active on it, else a new uint8 (h, w, 3) array.
    """
    return FrameEffects(events, fps=fps, style=style, lyrics=lyrics).apply(frame, index)
