"""In-betweening generators: one contract for every registered generator, then the
``flow`` generator on cel drawings with known motion (flat fills, dark outlines)."""

from __future__ import annotations

import functools
import logging
import math
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from douga.demo_art import make_demo_keyframes, shot_plan
from douga.errors import InputError, MissingDependency
from douga.generators import flow as flow_module
from douga.generators.base import (
    Generator,
    PairContext,
    available_generators,
    check_pair,
    get_generator,
)
from douga.generators.flow import FlowGenerator, PairReport
from tests.tiny_models import tiny_checkpoint, tiny_clip

W, H = 240, 160
SKY = (168, 212, 240)
FILL = (246, 150, 90)
LINE = (34, 28, 40)
GRASS = (128, 186, 128)


def psnr(x: np.ndarray, y: np.ndarray) -> float:
    mse = float(np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def cel(
    center: tuple[float, float],
    *,
    radius: float = 26,
    angle: float = 0.0,
    scale: float = 1.0,
    size: tuple[int, int] = (W, H),
    background: tuple[int, int, int] = SKY,
) -> np.ndarray:
    """A cel drawing: flat background with a static hill, and a flat-filled outlined
    shape (a disc with a square notch, so rotation shows) at ``center``.

    Drawn at 4× and box-averaged, as cel art is: smooth outlines, exactly flat fills.
    """
    k = 4
    w, h = size
    img = np.full((h * k, w * k, 3), background, np.uint8)
    # a static hill along the bottom: background structure that must not move
    cv2.ellipse(img, (w * k // 2, h * k + h * k // 3), (w * k, h * k // 2), 0, 0, 360, GRASS,
                -1)
    r = radius * scale * k
    cx, cy = center[0] * k, center[1] * k
    pts = []
    for deg in range(0, 360, 3):
        a = math.radians(deg + angle)
        # a notch: the radius drops between 20° and 50° of the shape's own angle
        rr = r * (0.6 if 20 <= deg < 50 else 1.0)
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    poly = np.round(np.array(pts)).astype(np.int32)
    cv2.fillPoly(img, [poly], FILL)
    cv2.polylines(img, [poly], True, LINE, thickness=3 * k)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def moving_pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A shape moving 24 px right: keyframe A, keyframe B, and the true middle frame."""
    return cel((84, 70)), cel((108, 70)), cel((96, 70))


# ---------------------------------------------------------------- the contract


def _generator(name: str) -> Generator:
    """A registered generator (``learned`` with a tiny random checkpoint), or a skip when its
    optional packages are missing."""
    try:
        if name == "learned":
            return get_generator(name, checkpoint=_tiny_checkpoint())
        if name == "clip":
            from douga.guided.settings import GuidanceSpec

            return get_generator(name, guidance=GuidanceSpec(
                clip=str(_tiny_clip()), image="fourier", size=32, cutouts=2, images_interval=2))
        return get_generator(name)
    except MissingDependency as e:
        pytest.skip(str(e))


@functools.cache
def _tiny_clip() -> Path:
    return tiny_clip(Path(tempfile.mkdtemp(prefix="douga-clip-")) / "clip")


@functools.cache
def _tiny_checkpoint() -> Path:
    return tiny_checkpoint(Path(tempfile.mkdtemp(prefix="douga-tiny-")) / "model")


@pytest.mark.parametrize("name", available_generators())
def test_contract_frames(name: str, moving_pair: tuple[np.ndarray, ...]) -> None:
    a, b, _ = moving_pair
    ts = [0.2, 0.5, 0.8]
    frames = list(_generator(name).inbetween(a, b, ts, context=PairContext(seed=3)))
    assert len(frames) == len(ts)
    for f in frames:
        assert isinstance(f, np.ndarray)
        assert f.dtype == np.uint8 and f.shape == a.shape
    # deterministic: a fresh generator object, and the same one asked again
    again = _generator(name)
    for _ in range(2):
        for f, g in zip(frames, again.inbetween(a, b, ts, context=PairContext(seed=3)),
                        strict=True):
            np.testing.assert_array_equal(f, g)
    assert list(_generator(name).inbetween(a, b, [])) == []


@pytest.mark.parametrize("name", ["flow", "crossfade", "hold"])
def test_contract_ends(name: str, moving_pair: tuple[np.ndarray, ...]) -> None:
    a, b, _ = moving_pair
    near_a, near_b = get_generator(name).inbetween(a, b, [0.001, 0.999])
    assert psnr(near_a, a) > 40
    if name != "hold":  # hold shows A until B is due
        assert psnr(near_b, b) > 40


@pytest.mark.parametrize("name", available_generators())
def test_contract_bad_input(name: str, moving_pair: tuple[np.ndarray, ...]) -> None:
    a, b, _ = moving_pair
    gen = _generator(name)
    bad = [
        (a, b[:-2], [0.5]),  # sizes differ
        (a.astype(np.float32), b, [0.5]),  # not uint8
        (a[..., 0], b[..., 0], [0.5]),  # grey, not RGB
        (a, np.dstack([b, b[..., :1]]), [0.5]),  # RGBA
        (a, b, [0.0]),
        (a, b, [1.0]),
        (a, b, [0.5, 1.5]),
        (a, b, [-0.1]),
    ]
    for x, y, ts in bad:
        with pytest.raises(InputError):
            check_pair(x, y, ts)
        with pytest.raises(InputError):
            list(gen.inbetween(x, y, ts))


def test_unknown_generator_lists_the_available_ones() -> None:
    with pytest.raises(InputError) as err:
        get_generator("morph-o-matic")
    message = str(err.value)
    assert "morph-o-matic" in message
    for name in available_generators():
        assert name in message
    assert {"flow", "crossfade", "hold"} <= set(available_generators())
    assert isinstance(get_generator("flow"), FlowGenerator)


# ---------------------------------------------------------------- flow


def test_flow_puts_a_moving_shape_at_its_midpoint(moving_pair: tuple[np.ndarray, ...]) -> None:
    a, b, truth = moving_pair
    (mid,) = FlowGenerator().inbetween(a, b, [0.5])
    (fade,) = get_generator("crossfade").inbetween(a, b, [0.5])
    assert psnr(mid, truth) > 30
    assert psnr(mid, truth) > psnr(fade, truth) + 10


def test_flow_keeps_flat_areas_flat_and_draws_lines_once(
    moving_pair: tuple[np.ndarray, ...],
) -> None:
    a, b, truth = moving_pair
    (mid,) = FlowGenerator().inbetween(a, b, [0.5])
    err = np.abs(mid.astype(int) - truth.astype(int)).max(axis=2)
    line_t = np.all(np.abs(truth.astype(int) - LINE) < 60, axis=2)
    near_line = cv2.dilate(line_t.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    # flat areas away from the true outline: still flat, still the right colour
    assert np.percentile(err[~near_line], 99) <= 6
    fill_t = np.all(truth == FILL, axis=2)
    assert fill_t.sum() > 1000
    assert np.abs(mid[fill_t].astype(int) - FILL).max() <= 8
    # no ghost: where A's and B's outlines were, and the true one is not, no dark line
    ghost_zone = (np.all(np.abs(a.astype(int) - LINE) < 60, axis=2)
                  | np.all(np.abs(b.astype(int) - LINE) < 60, axis=2)) & ~near_line
    assert ghost_zone.sum() > 100
    assert mid[ghost_zone].min(axis=1).min() > 60  # darkest channel stays far from the ink
    # and the outline itself is drawn: as many dark pixels as in the true frame
    dark = lambda img: int(np.all(np.abs(img.astype(int) - LINE) < 60, axis=2).sum())  # noqa: E731
    assert 0.8 * dark(truth) <= dark(mid) <= 1.2 * dark(truth)


@pytest.mark.parametrize(
    ("angle", "scale"),
    [
        ((0.0, 20.0), (1.0, 1.0)),  # rotation
        ((0.0, 0.0), (0.8, 1.2)),  # scaling
        ((-10.0, 10.0), (0.9, 1.1)),  # both
    ],
)
def test_flow_rotation_and_scale_beat_crossfade(
    angle: tuple[float, float], scale: tuple[float, float]
) -> None:
    a, b, truth = (
        cel((110, 72), radius=34, angle=angle[0] + t * (angle[1] - angle[0]),
            scale=scale[0] + t * (scale[1] - scale[0]))
        for t in (0.0, 1.0, 0.5)
    )
    (mid,) = FlowGenerator().inbetween(a, b, [0.5])
    (fade,) = get_generator("crossfade").inbetween(a, b, [0.5])
    assert psnr(mid, truth) > psnr(fade, truth) + 4


def test_flow_holds_a_cut_between_shots(caplog: pytest.LogCaptureFixture) -> None:
    a = cel((80, 70))
    rng = np.random.default_rng(1)
    # another shot: other colours, other shapes
    b = cv2.resize(rng.integers(0, 256, (8, 12, 3), dtype=np.uint8), (W, H),
                   interpolation=cv2.INTER_NEAREST)
    gen = FlowGenerator()
    with caplog.at_level(logging.INFO, logger="douga.generators.flow"):
        frames = list(gen.inbetween(a, b, [0.25, 0.5, 0.75]))
    for f in frames:
        np.testing.assert_array_equal(f, a)
    report = gen.pair_report(a, b)
    assert isinstance(report, PairReport)
    assert not report.inbetweenable
    assert report.reason
    assert any("holding" in r.getMessage() for r in caplog.records)


def _scatter(seed: int) -> np.ndarray:
    """Outlined discs scattered at random in the palette of :func:`cel`: another layout."""
    rng = np.random.default_rng(seed)
    img = np.full((H * 4, W * 4, 3), SKY, np.uint8)
    for _ in range(12):
        c = (int(rng.uniform(0, W * 4)), int(rng.uniform(0, H * 4)))
        r = int(rng.uniform(20, 70))
        cv2.circle(img, c, r, FILL if rng.random() < 0.5 else GRASS, -1)
        cv2.circle(img, c, r, LINE, 12)
    return cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("seeds", [(1, 2), (3, 4), (5, 6)])
def test_flow_holds_a_cut_with_the_same_colours(seeds: tuple[int, int]) -> None:
    a, b = _scatter(seeds[0]), _scatter(seeds[1])
    report = FlowGenerator().pair_report(a, b)
    assert report.histogram_distance < 0.5  # the colours alone do not tell
    assert not report.inbetweenable, report


def test_flow_follows_a_move_longer_than_the_shape() -> None:
    """60 px, more than the shape's size: DIS alone loses it, matched features find it."""
    a, b, truth = cel((70, 70)), cel((130, 70)), cel((100, 70))
    gen = FlowGenerator()
    (mid,) = gen.inbetween(a, b, [0.5])
    (fade,) = get_generator("crossfade").inbetween(a, b, [0.5])
    report = gen.pair_report(a, b)
    assert report.inbetweenable, report
    assert "feature-guided" in report.reason
    assert psnr(mid, truth) > 35
    assert psnr(mid, truth) > psnr(fade, truth) + 10


def test_flow_judges_the_demo_shots() -> None:
    """demo_art draws wide shots, then a close-up: in-between inside a shot, cut between."""
    frames = make_demo_keyframes(n=6, width=320, height=180)
    shots = shot_plan(6)
    gen = FlowGenerator()
    for i in range(5):
        report = gen.pair_report(frames[i], frames[i + 1])
        assert report.inbetweenable == (shots[i] == shots[i + 1]), (i, report)
        assert 0.0 <= report.consistency <= 1.0


def test_flow_gives_identical_keyframes_back(moving_pair: tuple[np.ndarray, ...]) -> None:
    a = moving_pair[0]
    gen = FlowGenerator()
    for f in gen.inbetween(a, a.copy(), [0.1, 0.5, 0.9]):
        np.testing.assert_array_equal(f, a)
    report = gen.pair_report(a, a)
    assert report.inbetweenable and report.residual == 0.0


def test_flow_still_background_is_untouched(moving_pair: tuple[np.ndarray, ...]) -> None:
    a, b, _ = moving_pair
    (mid,) = FlowGenerator().inbetween(a, b, [0.5])
    # the hill and the sky far from the shape's path are exactly A (and B)
    same = np.all(a == b, axis=2)
    far = cv2.erode(same.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
    assert far.sum() > 5000
    np.testing.assert_array_equal(mid[far], a[far])


def test_flow_is_computed_once_per_pair(
    monkeypatch: pytest.MonkeyPatch, moving_pair: tuple[np.ndarray, ...]
) -> None:
    calls: list[tuple[int, ...]] = []
    make = flow_module._make_dis

    class Counting:
        def __init__(self, preset: str) -> None:
            self.dis = make(preset)

        def calc(self, i0: np.ndarray, i1: np.ndarray, flow: np.ndarray) -> np.ndarray:
            calls.append(i0.shape)
            return self.dis.calc(i0, i1, flow)

    monkeypatch.setattr(flow_module, "_make_dis", Counting)
    a, b, _ = moving_pair
    gen = FlowGenerator()
    first = list(gen.inbetween(a, b, [0.25, 0.5]))
    assert len(calls) == 2  # forward and backward, once
    # other t, a copy of the same pixels, the report: all from the cache
    (again,) = gen.inbetween(a.copy(), b.copy(), [0.5])
    list(gen.inbetween(a, b, [0.1, 0.3, 0.7]))
    gen.pair_report(a, b)
    assert len(calls) == 2
    np.testing.assert_array_equal(first[1], again)
    # another pair is computed, and the first stays cached
    list(gen.inbetween(b, a, [0.5]))
    list(gen.inbetween(a, b, [0.5]))
    assert len(calls) == 4


def test_flow_ignores_seed_and_unknown_hints(moving_pair: tuple[np.ndarray, ...]) -> None:
    a, b, _ = moving_pair
    plain = list(FlowGenerator().inbetween(a, b, [0.3, 0.6]))
    ctx = PairContext(text_a="x", style="y", seed=42, hints={"intensity": 0.9, "zzz": 1.0})
    hinted = list(FlowGenerator().inbetween(a, b, [0.3, 0.6], context=ctx))
    for f, g in zip(plain, hinted, strict=True):
        np.testing.assert_array_equal(f, g)


def test_flow_odd_sizes_and_working_scale() -> None:
    """A size that is no multiple of the working scale, shrunk by 3: padded, then cropped."""
    size = (301, 203)
    a = cel((110, 100), size=size, radius=40)
    b = cel((150, 100), size=size, radius=40)
    truth = cel((130, 100), size=size, radius=40)
    gen = FlowGenerator(work_size=110)
    (near_a, mid) = gen.inbetween(a, b, [0.001, 0.5])
    assert mid.shape == a.shape
    assert psnr(near_a, a) > 40
    (fade,) = get_generator("crossfade").inbetween(a, b, [0.5])
    assert psnr(mid, truth) > psnr(fade, truth) + 3


def test_flow_small_images() -> None:
    """Too small for the half-size inversion start: inverted at the working size only."""
    size = (60, 28)
    a, b = cel((24, 14), radius=7, size=size), cel((30, 14), radius=7, size=size)
    truth = cel((27, 14), radius=7, size=size)
    near_a, mid = FlowGenerator().inbetween(a, b, [0.001, 0.5])
    assert mid.shape == a.shape
    assert psnr(near_a, a) > 40
    (fade,) = get_generator("crossfade").inbetween(a, b, [0.5])
    assert psnr(mid, truth) > psnr(fade, truth)


def test_flow_tiny_images_are_held() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    frames = list(FlowGenerator().inbetween(a, b, [0.5]))
    np.testing.assert_array_equal(frames[0], a)


def test_flow_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="preset"):
        FlowGenerator(preset="ludicrous")
    with pytest.raises(ValueError, match="work_size"):
        FlowGenerator(work_size=4)


def test_flow_crossfades_sub_pixel_motion() -> None:
    # a figure that "breathes" by under a pixel: averaging the keyframes is already the
    # half-way drawing, and a warp by a sub-pixel flow would only soften the outlines
    a = cel((120.0, 80.0))
    b = cel((120.6, 80.4))
    mid = cel((120.3, 80.2))
    (frame,) = FlowGenerator().inbetween(a, b, [0.5])
    fade = cv2.addWeighted(a, 0.5, b, 0.5, 0.0)
    assert psnr(frame, mid) >= psnr(fade, mid) - 0.1
