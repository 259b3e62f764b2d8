"""The simplest generators: a linear crossfade (the baseline every metric reports
beside) and a hold (the drawing stays A until B is due, a cut in time)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from douga.generators.base import Generator, PairContext, check_pair

__all__ = ["CrossfadeGenerator", "HoldGenerator"]


class CrossfadeGenerator(Generator):
    """(1 − t)·A + t·B per pixel."""

    name = "crossfade"

    def inbetween(
        self,
        a: np.ndarray,
        b: np.ndarray,
        ts: Sequence[float],
        *,
        context: PairContext | None = None,
    ) -> Iterator[np.ndarray]:
        check_pair(a, b, ts)
        fa = a.astype(np.float32)
        diff = b.astype(np.float32) - fa
        for t in ts:
            yield np.clip(fa + float(t) * diff + 0.5, 0, 255).astype(np.uint8)


class HoldGenerator(Generator):
    """Keyframe A for every t: no in-between drawing, B appears on its own frame."""

    name = "hold"

    def inbetween(
        self,
        a: np.ndarray,
        b: np.ndarray,
        ts: Sequence[float],
        *,
        context: PairContext | None = None,
    ) -> Iterator[np.ndarray]:
        check_pair(a, b, ts)
        for _ in ts:
            yield a.copy()
