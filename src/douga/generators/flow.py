"""The ``flow`` in-betweening generator: dense optical flow, warping and an
occlusion-aware blend, made for cel animation (flat fills, dark outlines).

Once per keyframe pair (cached on the generator object, keyed by the pixels):

1. both keyframes are shrunk by a whole factor to a working size (long side
   ≤ ``work_size``) and turned to grey;
2. OpenCV's DIS optical flow gives the forward flow A→B and the backward flow B→A,
   and a forward–backward check scores per pixel how well the two agree;
3. a :class:`PairReport` decides whether the pair can be in-betweened. When DIS
   alone cannot explain B from A (a move larger than the shapes, which its local
   search never reaches), feature matches (ORB) where DIS failed seed a second
   DIS pass, and the two flows are fused per pixel by how well each warps A onto
   B; only if that fails too is the pair held;
4. the box around everything that changes or moves is found (flow that DIS
   spreads into a still, flat sky does not count): outside it the in-between is
   keyframe A itself, so a still background costs nothing per frame.

For every in-between position t, inside the box and at the working size, the flows
are inverted by a fixed-point iteration (where in A, and where in B, does the pixel
at time t come from), started at half size, and a per-pixel weight says how far
each side can be trusted there: does the inversion converge (some pixel really
lands there; where none does, the area is hidden in that keyframe), do the source
pixel's flows agree. The maps and the weight are scaled up, both keyframes are
warped at full size with ``cv2.remap`` and blended with those weights, so content
hidden in one keyframe comes from the other one alone instead of ghosting.

A pair that cannot be in-betweened (a cut between shots, too little
correspondence) is held: every in-between is keyframe A and B appears on its own
frame, a cut in time. The decision is logged and exposed by
:meth:`FlowGenerator.pair_report`.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from scipy.spatial import cKDTree

from douga.generators.base import Generator, PairContext, check_pair

__all__ = ["FlowGenerator", "PairReport", "dense_flow"]

logger = logging.getLogger(__name__)

_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

# flow shorter than this (working pixels) is taken as no motion at all
_STILL = 0.25
# below about this much motion between the keyframes (output pixels) a pixel is crossfaded
SUBPIXEL_MOTION = 1.0

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass(frozen=True)
class PairReport:
    """Whether a keyframe pair can be in-betweened, and the measurements behind it.

    Measurements are taken at the generator's working size.

    Attributes
    ----------
    inbetweenable
        True when the flow explains B from A well enough to morph; False means the
        generator holds A for every in-between (the pair is treated as a cut).
    consistency
        Share (0–1) of pixels whose forward and backward flows agree.
    residual
        Mean absolute difference, in 0–255 levels per channel, between B and A
        warped onto B by the flow.
    difference
        Mean absolute difference between A and B themselves, in the same units:
        the residual with no motion at all.
    histogram_distance
        Bhattacharyya distance (0 same, 1 disjoint) of the colour histograms.
    reason
        A short human-readable account of the decision.
    """

    inbetweenable: bool
    consistency: float
    residual: float
    difference: float
    histogram_distance: float
    reason: str


@dataclass
class _Motion:
    """Both flows at one resolution, over the box of pixels that move."""

    # (h, w, 4) float32: flow x, flow y (pixels), 0–1 forward–backward agreement,
    # 0 (four channels remap fastest); A→B at A's pixels, B→A at B's pixels
    ab: np.ndarray
    ba: np.ndarray
    box: Box
    grid_x: np.ndarray  # (y1 - y0, x1 - x0) float32 pixel coordinates of the box
    grid_y: np.ndarray


@dataclass
class _PairFlow:
    """Everything computed once per keyframe pair."""

    report: PairReport
    morph: bool  # False: every in-between is A (identical, still, or held)
    scale: int  # full size = working size × scale (the full image padded if needed)
    fine: _Motion | None = None  # at the working size
    coarse: _Motion | None = None  # at half of it, where inversion starts


class FlowGenerator(Generator):
    """In-betweens from bidirectional optical flow with an occlusion-aware blend.

    Parameters
    ----------
    work_size
        Longest side, in pixels, at which flow is computed and inverted; keyframes
        are shrunk by the smallest whole factor that reaches it. The warp itself is
        done at full size.
    preset
        DIS preset: ``"ultrafast"``, ``"fast"`` or ``"medium"``.
    iterations
        Fixed-point steps (at half the working size) when inverting the flow.
    min_consistency
        Least share of forward–backward consistent pixels for a pair to be morphed.
    max_unexplained
        Largest share of the keyframes' difference the flow may leave unexplained
        (residual ÷ difference) for a pair to be morphed, ...
    residual_floor
        ... unless the residual is below this many levels: small changes that no
        motion explains (a blink, a mouth) are still morphed.
    max_histogram_distance
        Largest colour-histogram distance (0–1) for a pair to be morphed.
    cache_size
        How many keyframe pairs keep their flow in memory (about 10 MB each at
        the default working size).
    """

    name = "flow"
    version = "2"  # 2: the still-background box ignores flow in flat fills; long-move rescue

    def __init__(
        self,
        *,
        work_size: int = 640,
        preset: str = "medium",
        iterations: int = 3,
        min_consistency: float = 0.3,
        max_unexplained: float = 0.5,
        residual_floor: float = 3.0,
        max_histogram_distance: float = 0.5,
        cache_size: int = 4,
    ) -> None:
        if preset not in _PRESETS:
            raise ValueError(f"preset {preset!r}: expected one of {sorted(_PRESETS)}")
        if work_size < 16:
            raise ValueError(f"work_size {work_size}: expected at least 16 pixels")
        self.work_size = int(work_size)
        self.preset = preset
        self.iterations = max(0, int(iterations))
        self.min_consistency = float(min_consistency)
        self.max_unexplained = float(max_unexplained)
        self.residual_floor = float(residual_floor)
        self.max_histogram_distance = float(max_histogram_distance)
        self.cache_size = max(1, int(cache_size))
        self._cache: OrderedDict[bytes, _PairFlow] = OrderedDict()

    # ------------------------------------------------------------------ public
    def inbetween(
        self,
        a: np.ndarray,
        b: np.ndarray,
        ts: Sequence[float],
        *,
        context: PairContext | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield one uint8 H×W×3 frame for each t in ``ts`` (0 < t < 1), in order.

        The flow is computed on the first call for a pair and reused afterwards.
        Nothing is random, so ``context`` (seed, hints) changes nothing. A pair
        that cannot be in-betweened (see :meth:`pair_report`) gives ``a`` for
        every t.

        Raises
        ------
        InputError
            When ``a`` and ``b`` are not same-size uint8 RGB images or a t is
            outside (0, 1) (raised on the call, before any frame).
        """
        check_pair(a, b, ts)
        return self._frames(a, b, [float(t) for t in ts])

    def pair_report(self, a: np.ndarray, b: np.ndarray) -> PairReport:
        """Measure whether keyframes ``a`` and ``b`` can be in-betweened.

        Computes the pair's flow, or takes it from the cache, so calling this
        before :meth:`inbetween` costs nothing extra.

        Raises
        ------
        InputError
            When ``a`` and ``b`` are not same-size uint8 RGB images.
        """
        check_pair(a, b, [])
        return self._pair(a, b).report

    # ------------------------------------------------------------------ frames
    def _frames(self, a: np.ndarray, b: np.ndarray, ts: list[float]) -> Iterator[np.ndarray]:
        pair = self._pair(a, b)
        for t in ts:
            yield self._frame(a, b, pair, t) if pair.morph else a.copy()

    def _frame(self, a: np.ndarray, b: np.ndarray, pair: _PairFlow, t: float) -> np.ndarray:
        fine, coarse = pair.fine, pair.coarse
        assert fine is not None  # a pair to morph has its motion
        ax, ay, valid_a = _invert(fine, coarse, t, self.iterations, backward=False)
        bx, by, valid_b = _invert(fine, coarse, 1.0 - t, self.iterations, backward=True)
        wa = (1.0 - t) * valid_a
        wb = t * valid_b
        total = wa + wb
        # where neither side is trusted, fall back to a plain crossfade of the warps
        weight = np.where(total > 1e-3, wa / np.maximum(total, 1e-3), 1.0 - t)
        weight = weight.astype(np.float32)
        s = pair.scale
        x0, y0, x1, y1 = fine.box
        h, w = a.shape[:2]
        fx0, fy0, fx1, fy1 = x0 * s, y0 * s, min(w, x1 * s), min(h, y1 * s)
        if s > 1:
            # scale by a whole factor: resizing a crop is exact (pixel centres at
            # (i + 0.5)·s − 0.5, an affine map applied before the linear resize)
            size = ((x1 - x0) * s, (y1 - y0) * s)
            off = 0.5 * s - 0.5
            fh, fw = fy1 - fy0, fx1 - fx0

            def up(m: np.ndarray, coord: bool = True) -> np.ndarray:
                m = m * s + off if coord else m
                return cv2.resize(m, size, interpolation=cv2.INTER_LINEAR)[:fh, :fw]

            ax, ay, bx, by = up(ax), up(ay), up(bx), up(by)
            weight = up(weight, coord=False)
        warped_a = _remap(a, ax, ay)
        warped_b = _remap(b, bx, by)
        morphed = cv2.blendLinear(warped_a, warped_b, weight, 1.0 - weight)
        out = a.copy()
        out[fy0:fy1, fx0:fx1] = _subpixel_crossfade(
            morphed, a[fy0:fy1, fx0:fx1], b[fy0:fy1, fx0:fx1], ax, ay, fx0, fy0, t)
        return out

    # ------------------------------------------------------------------ per pair
    def _pair(self, a: np.ndarray, b: np.ndarray) -> _PairFlow:
        key = _pair_key(a, b)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        pair = self._compute_pair(a, b)
        self._cache[key] = pair
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        if not pair.report.inbetweenable:
            logger.info("flow: holding keyframe A instead of in-betweening (%s)",
                        pair.report.reason)
        return pair

    def _compute_pair(self, a: np.ndarray, b: np.ndarray) -> _PairFlow:
        h, w = a.shape[:2]
        s = max(1, math.ceil(max(h, w) / self.work_size))
        small_a, small_b = _shrink(a, s), _shrink(b, s)
        hs, ws = small_a.shape[:2]
        if np.array_equal(a, b):
            return _PairFlow(PairReport(True, 1.0, 0.0, 0.0, 0.0, "keyframes are identical"),
                             False, s)
        if min(hs, ws) < 8:
            return _PairFlow(PairReport(False, 0.0, 0.0, 0.0, 0.0,
                                        f"too small for optical flow ({w}×{h} pixels)"), False, s)
        grey_a, grey_b = _grey(small_a), _grey(small_b)
        gx, gy = np.meshgrid(np.arange(ws, dtype=np.float32), np.arange(hs, dtype=np.float32))
        dis = _make_dis(self.preset)
        flow_ab = _calc(dis, grey_a, grey_b)
        flow_ba = _calc(dis, grey_b, grey_a)
        conf_a, conf_b, report = self._measure(small_a, small_b, flow_ab, flow_ba, gx, gy)
        unexplained = report.residual > self.max_unexplained * report.difference
        if (unexplained or not report.inbetweenable) and (
            report.histogram_distance <= self.max_histogram_distance
        ):
            # a second chance for moves too long for DIS's local search
            guided = _guided_flows(dis, small_a, small_b, flow_ab, flow_ba, conf_a, conf_b,
                                   gx, gy)
            if guided is not None:
                measured = self._measure(small_a, small_b, *guided, gx, gy)
                second = measured[2]
                # seeded flow can explain much (a mirrored shot's tree "slides over"):
                # it must explain far more than a first-pass flow has to
                if (second.inbetweenable and second.residual < report.residual
                        and second.residual <= 0.4 * self.max_unexplained * second.difference):
                    flow_ab, flow_ba = guided
                    conf_a, conf_b, report = measured
                    report = replace(report, reason=f"long move, feature-guided flow: "
                                                    f"{report.reason}")
        box = _moving_box(small_a, small_b, flow_ab, flow_ba)
        if box is None:  # nothing moves and nothing changes beyond rounding
            return _PairFlow(report, False, s)
        # even corners, so that the box at half size is exactly half the box
        x0, y0 = box[0] // 2 * 2, box[1] // 2 * 2
        x1, y1 = min(ws, -(-box[2] // 2) * 2), min(hs, -(-box[3] // 2) * 2)
        zero = np.zeros_like(conf_a)
        fine = _Motion(cv2.merge([flow_ab[..., 0], flow_ab[..., 1], conf_a, zero]),
                       cv2.merge([flow_ba[..., 0], flow_ba[..., 1], conf_b, zero]),
                       (x0, y0, x1, y1), np.ascontiguousarray(gx[y0:y1, x0:x1]),
                       np.ascontiguousarray(gy[y0:y1, x0:x1]))
        coarse = None
        if min(hs, ws) >= 32:
            half_ab, half_ba = _shrink(fine.ab, 2), _shrink(fine.ba, 2)
            for half in (half_ab, half_ba):
                half[..., :2] *= 0.5
            cx0, cy0, cx1, cy1 = x0 // 2, y0 // 2, -(-x1 // 2), -(-y1 // 2)
            cgx, cgy = np.meshgrid(np.arange(cx0, cx1, dtype=np.float32),
                                   np.arange(cy0, cy1, dtype=np.float32))
            coarse = _Motion(half_ab, half_ba, (cx0, cy0, cx1, cy1), cgx, cgy)
        return _PairFlow(report, report.inbetweenable, s, fine, coarse)

    def _measure(
        self,
        small_a: np.ndarray,
        small_b: np.ndarray,
        flow_ab: np.ndarray,
        flow_ba: np.ndarray,
        gx: np.ndarray,
        gy: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, PairReport]:
        """Per-pixel agreement of the two flows, and the report they lead to."""
        conf_a = _agreement(flow_ab, flow_ba, gx, gy)
        conf_b = _agreement(flow_ba, flow_ab, gx, gy)
        consistency = float(0.5 * (np.mean(conf_a > 0.5) + np.mean(conf_b > 0.5)))
        a_on_b = _warp(small_a, flow_ba, gx, gy)
        residual = float(cv2.absdiff(small_b, a_on_b).mean())
        difference = float(cv2.absdiff(small_b, small_a).mean())
        hist = _histogram_distance(small_a, small_b)
        problems = []
        if consistency < self.min_consistency:
            problems.append(f"flow consistency {consistency:.2f} < {self.min_consistency:.2f}")
        # a blink or a new mouth is not explained by motion but is small; a new shot
        # leaves most of the difference between the keyframes unexplained
        if residual > self.residual_floor and residual > self.max_unexplained * difference:
            problems.append(
                f"the flow leaves {residual / difference:.0%} of the keyframe difference "
                f"unexplained (> {self.max_unexplained:.0%})"
            )
        if hist > self.max_histogram_distance:
            problems.append(f"colour histogram distance {hist:.2f} > "
                            f"{self.max_histogram_distance:.2f}")
        reason = "; ".join(problems) or (
            f"consistency {consistency:.2f}, residual {residual:.1f} of difference "
            f"{difference:.1f}, histogram distance {hist:.2f}"
        )
        report = PairReport(not problems, consistency, residual, difference, hist, reason)
        return conf_a, conf_b, report


# ---------------------------------------------------------------------- helpers
def _pair_key(a: np.ndarray, b: np.ndarray) -> bytes:
    """A content key: equal pixels give an equal key, whichever array objects hold them."""
    digest = hashlib.blake2b(digest_size=16)
    for img in (a, b):
        digest.update(repr(img.shape).encode())
        digest.update(np.ascontiguousarray(img).data)
    return digest.digest()


def _shrink(img: np.ndarray, s: int) -> np.ndarray:
    """Box-average by a whole factor ``s``; the image is first padded (edge pixels
    repeated) to a multiple of ``s``, so working pixel i covers full pixels i·s … i·s+s−1."""
    if s == 1:
        return img
    h, w = img.shape[:2]
    pad_y, pad_x = -h % s, -w % s
    if pad_x or pad_y:
        img = cv2.copyMakeBorder(img, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
    return cv2.resize(img, ((w + pad_x) // s, (h + pad_y) // s), interpolation=cv2.INTER_AREA)


def dense_flow(i0: np.ndarray, i1: np.ndarray, preset: str = "medium") -> np.ndarray:
    """DIS optical flow (h, w, 2) float32 from RGB image ``i0`` to ``i1``: ``i0`` at x
    shows what ``i1`` shows at x + flow(x); motion under a quarter pixel is 0."""
    return _calc(_make_dis(preset), _grey(i0), _grey(i1))


def _make_dis(preset: str) -> cv2.DISOpticalFlow:
    return cv2.DISOpticalFlow.create(_PRESETS[preset])


def _grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _calc(dis: cv2.DISOpticalFlow, i0: np.ndarray, i1: np.ndarray,
          init: np.ndarray | None = None) -> np.ndarray:
    """DIS flow from ``i0`` to ``i1`` (h, w, 2), started from ``init`` if given.

    Without ``init`` no flow array is passed at all: DIS treats any array passed
    as an initial flow, and starting from zeros is not the same as its own start.
    """
    start: Any = None if init is None else init.copy()  # the stubs want an array
    flow = np.asarray(dis.calc(i0, i1, start), dtype=np.float32)
    # a still pixel must stay exactly still: DIS leaves hundredths of a pixel of
    # drift on static texture, which would resample (soften) it in every frame
    flow[flow[..., 0] ** 2 + flow[..., 1] ** 2 < _STILL**2] = 0.0
    return flow


def _warp(img: np.ndarray, flow: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """``img`` sampled at x + flow(x): the other image pulled onto this one's pixels."""
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _agreement(flow: np.ndarray, back: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """0–1 per pixel: 1 where flow(x) + back(x + flow(x)) is 0, the two flows agree."""
    fx, fy = flow[..., 0], flow[..., 1]
    back_at = _warp(back, flow, gx, gy)
    ex, ey = fx + back_at[..., 0], fy + back_at[..., 1]
    # a tolerance that grows a little with the motion: long moves are less precise
    tol2 = 1.0 + 0.01 * (fx * fx + fy * fy)
    return np.exp(-(ex * ex + ey * ey) / tol2).astype(np.float32)


def _fit_cost(src: np.ndarray, dst: np.ndarray, flow: np.ndarray, gx: np.ndarray,
              gy: np.ndarray) -> np.ndarray:
    """Per pixel, how badly ``flow`` pulls ``dst`` onto ``src`` (mean abs levels, 9×9 box)."""
    err = cv2.absdiff(src, _warp(dst, flow, gx, gy)).astype(np.float32).mean(axis=2)
    return cv2.boxFilter(err, -1, (9, 9))


def _guided_flows(
    dis: cv2.DISOpticalFlow,
    small_a: np.ndarray,
    small_b: np.ndarray,
    flow_ab: np.ndarray,
    flow_ba: np.ndarray,
    conf_a: np.ndarray,
    conf_b: np.ndarray,
    gx: np.ndarray,
    gy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Flows for moves longer than DIS's local search reaches, seeded by feature matches.

    ORB features are matched between A and B. Matches are kept where DIS is shown
    wrong (its warp does not fit there, or its two flows disagree), where they
    disagree with DIS, and where a neighbouring match agrees with them (a single
    match may be a look-alike). Their displacements, spread around them, start a
    second DIS pass; per pixel, the second flow replaces the first where it warps
    better, or, near the matches, where it warps as well (flat fills, where any
    flow fits, move with the outlines the matches found). None when too few
    matches are left.
    """
    grey_a, grey_b = _grey(small_a), _grey(small_b)
    pa, pb = _orb_matches(grey_a, grey_b)
    if len(pa) < 3:
        return None
    d = pb - pa
    bad_a = (_fit_cost(small_a, small_b, flow_ab, gx, gy) > 6.0) | (conf_a < 0.5)
    bad_b = (_fit_cost(small_b, small_a, flow_ba, gx, gy) > 6.0) | (conf_b < 0.5)
    near = np.ones((5, 5), np.uint8)
    bad_a = cv2.dilate(bad_a.astype(np.uint8), near) > 0
    bad_b = cv2.dilate(bad_b.astype(np.uint8), near) > 0
    missed = (np.hypot(*(d - _at(flow_ab, pa)).T) > 3.0) | (
        np.hypot(*(-d - _at(flow_ba, pb)).T) > 3.0
    )
    keep = missed & (_at(bad_a, pa) | _at(bad_b, pb))
    keep[keep] = _coherent(pa[keep], d[keep])
    if keep.sum() < 3:
        return None
    fused = []
    for src, dst, p, disp, flow, g_src, g_dst in (
        (small_a, small_b, pa[keep], d[keep], flow_ab, grey_a, grey_b),
        (small_b, small_a, pb[keep], -d[keep], flow_ba, grey_b, grey_a),
    ):
        seed, near_match = _spread(p, disp, flow.shape[:2], sigma=12.0)
        w = near_match[..., None]
        second = _calc(dis, g_src, g_dst, flow * (1.0 - w) + seed * w)
        c0, c1 = _fit_cost(src, dst, flow, gx, gy), _fit_cost(src, dst, second, gx, gy)
        use = (c1 < c0 - 2.0) | ((near_match > 0.5) & (c1 <= c0 + 0.5))
        out = flow.copy()
        out[use] = second[use]
        fused.append(out)
    return fused[0], fused[1]


def _orb_matches(grey_a: np.ndarray, grey_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cross-checked ORB matches: positions (n, 2) in A and in B."""
    orb = cv2.ORB.create(nfeatures=2000, fastThreshold=10, edgeThreshold=19, patchSize=19)
    ka, da = orb.detectAndCompute(grey_a, None)
    kb, db = orb.detectAndCompute(grey_b, None)
    if da is None or db is None or len(ka) < 2 or len(kb) < 2:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    matches = [m for m in cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(da, db)
               if m.distance < 48]
    pa = np.array([ka[m.queryIdx].pt for m in matches], np.float32).reshape(-1, 2)
    pb = np.array([kb[m.trainIdx].pt for m in matches], np.float32).reshape(-1, 2)
    return pa, pb


def _at(field: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Values of a per-pixel field at the nearest pixels of points ``p`` (n, 2)."""
    h, w = field.shape[:2]
    x = np.clip(np.round(p[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.round(p[:, 1]).astype(int), 0, h - 1)
    return field[y, x]


def _coherent(p: np.ndarray, d: np.ndarray, radius: float = 40.0) -> np.ndarray:
    """True for matches with a neighbour (within ``radius``) that moves alike."""
    keep = np.zeros(len(p), bool)
    if len(p) < 2:
        return keep
    pairs = cKDTree(p).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return keep
    i, j = pairs[:, 0], pairs[:, 1]
    gap = np.hypot(*(d[i] - d[j]).T)
    alike = gap < np.maximum(4.0, 0.25 * np.hypot(*d[i].T))
    keep[i[alike]] = True
    keep[j[alike]] = True
    return keep


def _spread(p: np.ndarray, d: np.ndarray, shape: tuple[int, int], *,
            sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Displacements ``d`` at points ``p`` spread into a dense field (Gaussian weights),
    and how near (0–1) each pixel is to a match."""
    h, w = shape
    points = np.zeros((h, w, 3), np.float32)
    x = np.clip(np.round(p[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.round(p[:, 1]).astype(int), 0, h - 1)
    np.add.at(points, (y, x), np.column_stack([d, np.ones(len(d))]).astype(np.float32))
    acc = np.asarray(cv2.GaussianBlur(points, (0, 0), sigma))
    density = acc[..., 2]
    field = acc[..., :2] / np.maximum(density, 1e-12)[..., None]
    # a lone match weighs 1 at its own pixel
    near = np.clip(density * (2.0 * np.pi * sigma * sigma), 0.0, 1.0)
    return field.astype(np.float32), near.astype(np.float32)


def _invert(
    fine: _Motion, coarse: _Motion | None, t: float, iterations: int, *, backward: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each pixel p of the frame at t comes from: q with q + t·flow(q) = p.

    Solved by the fixed-point iteration q ← p − t·flow(q), which converges where
    the flow is smooth: ``iterations`` steps at half size (four times cheaper),
    when ``coarse`` is given, then one step at the working size, which also puts
    motion boundaries back at their sharp places. ``backward`` selects the flow
    B→A (then t is the distance from B).

    Returns
    -------
    qx, qy
        (bh, bw) float32 source positions of the box's pixels.
    valid
        (bh, bw) float32, 0–1: high where the iteration converged (a pixel really
        lands on p; where none does, p is hidden in this keyframe) and that
        pixel's flows agree.
    """
    motion = fine.ba if backward else fine.ab
    x0, y0, x1, y1 = fine.box
    if coarse is None:
        qx, qy = _iterate(fine, t, iterations, backward=backward)
    else:
        cx, cy = _iterate(coarse, t, iterations, backward=backward)
        # half-size pixel i is working coordinate 2i + 0.5; the box is exactly twice
        # the half box (less a pixel at an odd image edge)
        size = (2 * cx.shape[1], 2 * cx.shape[0])
        bh, bw = y1 - y0, x1 - x0
        qx = cv2.resize(cx * 2.0 + 0.5, size, interpolation=cv2.INTER_LINEAR)[:bh, :bw]
        qy = cv2.resize(cy * 2.0 + 0.5, size, interpolation=cv2.INTER_LINEAR)[:bh, :bw]
    m = cv2.remap(motion, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    nx = fine.grid_x - t * m[..., 0]
    ny = fine.grid_y - t * m[..., 1]
    # how far the last step still moved: ~0 where the iteration has converged
    dx, dy = nx - qx, ny - qy
    valid = np.exp(-2.0 * (dx * dx + dy * dy)) * (0.2 + 0.8 * m[..., 2])
    return nx, ny, valid.astype(np.float32)


def _iterate(
    level: _Motion, t: float, iterations: int, *, backward: bool
) -> tuple[np.ndarray, np.ndarray]:
    motion = level.ba if backward else level.ab
    x0, y0, x1, y1 = level.box
    qx = level.grid_x - t * motion[y0:y1, x0:x1, 0]
    qy = level.grid_y - t * motion[y0:y1, x0:x1, 1]
    for _ in range(iterations):
        m = cv2.remap(motion, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        qx = level.grid_x - t * m[..., 0]
        qy = level.grid_y - t * m[..., 1]
    return qx, qy


def _subpixel_crossfade(
    morphed: np.ndarray, a: np.ndarray, b: np.ndarray, map_x: np.ndarray, map_y: np.ndarray,
    x0: int, y0: int, t: float, *, still_px: float = SUBPIXEL_MOTION,
) -> np.ndarray:
    """Where a pixel moves less than about a pixel between the keyframes, the crossfade.

    Averaging two images a pixel apart is already the half-pixel shift, and it keeps
    the lines as sharp as the drawing; warping by a noisy sub-pixel flow only blurs
    them. The morph takes over from ``still_px`` to twice that.
    """
    h, w = map_x.shape
    gx = np.arange(x0, x0 + w, dtype=np.float32)[None, :]
    gy = np.arange(y0, y0 + h, dtype=np.float32)[:, None]
    motion = np.hypot(map_x - gx, map_y - gy) / max(t, 1e-3)
    alpha = np.clip(motion / still_px - 1.0, 0.0, 1.0).astype(np.float32)
    if float(alpha.min()) >= 1.0:
        return morphed
    fade = cv2.addWeighted(a, 1.0 - t, b, t, 0.0)
    return cv2.blendLinear(morphed, fade, alpha, 1.0 - alpha)


def _remap(img: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """Bilinear backward warp of a uint8 image; fixed-point maps remap faster than float."""
    m1, m2 = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)
    return cv2.remap(img, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _moving_box(
    small_a: np.ndarray, small_b: np.ndarray, flow_ab: np.ndarray, flow_ba: np.ndarray
) -> Box | None:
    """Working-size box (x0, y0, x1, y1) around every pixel that changes or moves.

    Outside it A equals B and nothing with texture moves, so an in-between there is
    A itself. A pixel at time t comes from a moving pixel of A and goes on to one of
    B, so it lies between the two, inside the box too. Flow inside a flat fill
    (DIS spreads motion a little way into a still sky) does not count: warping a
    flat area changes nothing. None when nothing changes.
    """
    changed = cv2.absdiff(small_a, small_b).max(axis=2) > 2
    for img, flow in ((small_a, flow_ab), (small_b, flow_ba)):
        edges = cv2.morphologyEx(img, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        textured = cv2.dilate((edges.max(axis=2) > 4).astype(np.uint8), np.ones((3, 3)))
        changed |= np.any(flow != 0, axis=2) & (textured > 0)  # flow is 0 or ≥ _STILL
    x, y, bw, bh = cv2.boundingRect(changed.astype(np.uint8))
    if bw == 0 or bh == 0:
        return None
    h, w = changed.shape
    pad = 3  # the bilinear footprint of the scale-up, and a little more
    return max(0, x - pad), max(0, y - pad), min(w, x + bw + pad), min(h, y + bh + pad)


def _histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of 8×8×8-bin RGB histograms (0 same, 1 disjoint)."""
    ha = cv2.calcHist([a], [0, 1, 2], None, [8, 8, 8], [0, 256, 0, 256, 0, 256])
    hb = cv2.calcHist([b], [0, 1, 2], None, [8, 8, 8], [0, 256, 0, 256, 0, 256])
    return float(cv2.compareHist(ha, hb, cv2.HISTCMP_BHATTACHARYYA))
