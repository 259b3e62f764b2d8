"""VQGAN-CLIP video production: snapshots become frames, a feedback motion, a remap of frame times.

The seed's recipe (Kim et al.): the optimised image is snapshotted every
``images_interval`` steps, and each snapshot is a frame. For zoom transitions each
new image starts from the previous one scaled, rotated and shifted a little (a
feedback loop), so the picture keeps flowing into the screen while the prompts
repaint it. In post, playback speed is modulated by remapping frame times: each
output frame shows the snapshot made for the latest time at or before it, so
stretches with few snapshots play slowly (held drawings) and stretches with many
play fast. No torch here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Motion", "apply_motion", "frames_from_snapshots"]


@dataclass(frozen=True)
class Motion:
    """The camera move between two consecutive images of the feedback loop."""

    zoom: float = 1.0  # scale per image (>1 zooms in)
    angle: float = 0.0  # degrees per image, counter-clockwise
    shift: tuple[float, float] = (0.0, 0.0)  # (x, y) pixels per image

    @property
    def still(self) -> bool:
        return self.zoom == 1.0 and self.angle == 0.0 and self.shift == (0.0, 0.0)


def apply_motion(image: np.ndarray, motion: Motion) -> np.ndarray:
    """``image`` (uint8 H×W×3) moved by ``motion`` about its centre; edges are mirrored."""
    if motion.still:
        return image
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), motion.angle, motion.zoom)
    m[:, 2] += np.asarray(motion.shift, dtype=np.float64)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT_101)


def frames_from_snapshots(snapshots: Iterable[tuple[float, np.ndarray]], *, fps: float,
                          frame_count: int) -> Iterator[np.ndarray]:
    """The video's frames from time-stamped snapshots (times in seconds, non-decreasing).

    Frame i shows the last snapshot whose time is at or before i / fps (the first
    snapshot before that). Snapshots are consumed lazily.
    """
    it = iter(snapshots)
    current = next(it, None)
    if current is None:
        raise ValueError("no snapshots to make frames from")
    pending = next(it, None)
    for i in range(frame_count):
        t = i / fps + 1e-9
        while pending is not None and pending[0] <= t:
            current, pending = pending, next(it, None)
        yield current[1]
