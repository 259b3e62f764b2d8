"""Frame effects and lyric text: effects land on their frames and decay, frames are pure
functions of their index, ``effects: none`` is the identity, text shows at its time."""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from douga.effects import (
    EffectStyle,
    FrameEffects,
    apply_effects,
    bundled_font_path,
    effect_span,
    load_font,
    missing_glyphs,
)
from douga.effects.frame import ZOOM_AMOUNT
from douga.effects.text import LAST_LINE_SECONDS
from douga.errors import InputError
from douga.music.lyrics import LyricLine
from douga.timeline.model import EffectEvent, EffectKind

H, W = 90, 160
FPS = 24.0

# Debian packages that carry a CJK font; the Makefile installs fonts-wqy-microhei for tests
CJK_FONTS = [
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
]


def _cjk_font() -> Path:
    for p in CJK_FONTS:
        if p.is_file():
            return p
    pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    """A textured frame: any zoom, shift or brightening changes it."""
    yy, xx = np.mgrid[0:H, 0:W]
    rng = np.random.default_rng(1)
    base = np.dstack([xx * 255 // W, yy * 255 // H, (xx * 7 + yy * 3) % 256]).astype(np.int32)
    base += rng.integers(-20, 21, base.shape)
    out = np.clip(base, 0, 255).astype(np.uint8)
    out.setflags(write=False)  # effects must never write into their input
    return out


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int32) - b.astype(np.int32)).mean())


# ------------------------------------------------------------------ effect events
@pytest.mark.parametrize("kind", ["flash", "zoom", "shake"])
def test_effect_lands_on_its_frame_and_decays_to_identity(frame: np.ndarray, kind: str) -> None:
    event = EffectEvent(frame=10, kind=kind, strength=1.0)  # type: ignore[arg-type]
    fx = FrameEffects([event], fps=FPS)
    span = effect_span(event, fps=FPS)
    assert span is not None and span[0] == 10
    first, last = span
    assert 3 <= last - first + 1 <= 8  # a few frames at 24 fps
    for i in range(0, first):
        assert fx.apply(frame, i) is frame
    diffs = []
    for i in range(first, last + 1):
        out = fx.apply(frame, i)
        assert out.shape == frame.shape and out.dtype == np.uint8
        assert fx.touches(i)
        # a shake's last frames move by under half a pixel at this small size
        if kind != "shake" or i - first < (last - first + 1) // 2:
            assert not np.array_equal(out, frame), f"{kind} frame {i} unchanged"
        diffs.append(_diff(out, frame))
    for i in range(last + 1, last + 30):
        assert fx.apply(frame, i) is frame  # exactly the input, not a copy
        assert not fx.touches(i)
    assert diffs[0] == max(diffs) and diffs[-1] < diffs[0]
    if kind != "shake":  # a shake jitters; flash and zoom fade steadily
        assert all(a >= b for a, b in itertools.pairwise(diffs))


def test_negative_event_frames_work(frame: np.ndarray) -> None:
    fx = FrameEffects([EffectEvent(-2, "shake", 1.0)], fps=FPS)
    assert fx.apply(frame, 0) is not frame and fx.apply(frame, 10) is frame


def test_effect_spans_scale_with_fps() -> None:
    e = EffectEvent(frame=100, kind="zoom", strength=0.5)
    s24, s60 = effect_span(e, fps=24), effect_span(e, fps=60)
    assert s24 is not None and s60 is not None
    assert (s60[1] - s60[0] + 1) > 2 * (s24[1] - s24[0] + 1)
    assert effect_span(EffectEvent(5, "flash", 0.0), fps=24) is None
    assert effect_span(e, fps=24, style=EffectStyle(zoom=0)) is None


def test_flash_brightens_toward_its_colour() -> None:
    black = np.zeros((H, W, 3), np.uint8)
    out = apply_effects(black, 3, fps=FPS, events=[EffectEvent(3, "flash", 1.0)])
    assert out.min() > 180 and out.max() <= 255
    assert np.ptp(out) == 0  # uniform: a flash is not a vignette
    red = EffectStyle(flash_color="#ff0000")
    out = apply_effects(black, 3, fps=FPS, events=[EffectEvent(3, "flash", 1.0)], style=red)
    assert out[..., 0].min() > 180 and out[..., 1:].max() == 0
    half = apply_effects(black, 3, fps=FPS, events=[EffectEvent(3, "flash", 0.5)])
    assert 0 < half.mean() < out[..., 0].mean()


def test_zoom_scales_about_the_centre_and_keeps_size() -> None:
    img = np.zeros((180, 320, 3), np.uint8)
    img[60:120, 130:190] = 255  # a 60×60 square in the centre
    out = apply_effects(img, 0, fps=FPS, events=[EffectEvent(0, "zoom", 1.0)])
    assert out.shape == img.shape and out.dtype == np.uint8
    cols = np.flatnonzero(out[90, :, 0] > 127)
    rows = np.flatnonzero(out[:, 160, 0] > 127)
    want = 60 * (1 + ZOOM_AMOUNT)
    assert abs(len(cols) - want) <= 1.5 and abs(len(rows) - want) <= 1.5
    assert abs((cols[0] + cols[-1]) / 2 - 159.5) <= 1 and abs((rows[0] + rows[-1]) / 2 - 89.5) <= 1
    half = apply_effects(img, 0, fps=FPS, events=[EffectEvent(0, "zoom", 0.5)])
    assert len(cols) > len(np.flatnonzero(half[90, :, 0] > 127)) > 60


def _textured(h: int = 180, w: int = 320) -> np.ndarray:
    """A smooth, detailed picture: the frame-to-frame change grows with any motion."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = [np.sin(x / 7.0 + c) * np.cos(y / 5.0 - c) + 0.5 * np.sin((x + y) / 11.0)
           for c in (0.0, 1.0, 2.0)]
    return np.clip(127.5 + 60.0 * np.stack(rgb, axis=-1), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("kind", "strength", "fps"),
    [("shake", 1.0, 24), ("shake", 0.5, 24), ("shake", 1.0, 30), ("shake", 1.0, 60),
     ("zoom", 1.0, 24), ("zoom", 0.25, 24), ("zoom", 0.25, 60), ("flash", 0.2, 24)],
)
@pytest.mark.parametrize("at", [20, 21, 57])
def test_the_largest_frame_to_frame_change_is_on_the_event_frame(
    kind: EffectKind, strength: float, fps: float, at: int
) -> None:
    # the event frame is the visual accent: no later frame changes the picture as
    # much, and none is a second local peak of change (douga eval sync would count it
    # as an accent off the beat)
    img = _textured()
    fx = FrameEffects([EffectEvent(at, kind, strength)], fps=fps)
    span = effect_span(EffectEvent(at, kind, strength), fps=fps)
    assert span is not None
    frames = [fx.apply(img, i) for i in range(at - 1, span[1] + 2)]
    change = [_diff(a, b) for a, b in itertools.pairwise(frames)]
    assert change[0] > 0 and change[0] >= 1.25 * max(change[1:])
    if fps <= 30:  # at 60 fps a shake is a smooth swing: its later peaks are far smaller
        w = max(1, round(0.1 * fps))  # douga eval sync's peak neighbourhood, ±0.1 s
        for i in range(w + 1, len(change)):  # no later peak standing out of its ±w frames
            assert change[i] < 1e-9 or change[i] <= max(change[i - w : i]) + 1e-9


def test_shake_starts_on_its_largest_offset() -> None:
    img = np.zeros((180, 320, 3), np.uint8)
    img[80:100, 150:170] = 255  # a bright square: its centroid shows the offset
    fx = FrameEffects([EffectEvent(0, "shake", 1.0)], fps=FPS)
    span = effect_span(EffectEvent(0, "shake", 1.0), fps=FPS)
    assert span is not None

    def centre(a: np.ndarray) -> np.ndarray:
        w = a[..., 0].astype(np.float64)
        ys, xs = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
        return np.array([(w * xs).sum(), (w * ys).sum()]) / w.sum()

    rest = centre(img)
    offsets = [float(np.linalg.norm(centre(fx.apply(img, i)) - rest))
               for i in range(span[0], span[1] + 1)]
    assert offsets[0] == max(offsets) and offsets[0] > 2.0
    assert offsets[-1] < 0.25 * offsets[0]


def test_shake_moves_the_picture_deterministically(frame: np.ndarray) -> None:
    a = FrameEffects([EffectEvent(20, "shake", 1.0)], fps=FPS)
    b = FrameEffects([EffectEvent(20, "shake", 1.0)], fps=FPS)
    c = FrameEffects([EffectEvent(21, "shake", 1.0)], fps=FPS)
    for k in range(4):
        np.testing.assert_array_equal(a.apply(frame, 20 + k), b.apply(frame, 20 + k))
    # another event frame seeds another path
    assert not np.array_equal(a.apply(frame, 22), c.apply(frame, 23))
    weak = FrameEffects([EffectEvent(20, "shake", 0.2)], fps=FPS)
    assert _diff(weak.apply(frame, 20), frame) < _diff(a.apply(frame, 20), frame)


def test_shake_never_shows_a_border() -> None:
    img = np.full((H, W, 3), 200, np.uint8)
    fx = FrameEffects([EffectEvent(0, "shake", 1.0), EffectEvent(0, "zoom", 1.0)], fps=FPS)
    for i in range(8):
        out = fx.apply(img, i)
        assert (out == 200).all()


def test_overlapping_events_combine(frame: np.ndarray) -> None:
    zoom = [EffectEvent(5, "zoom", 1.0)]
    shake = [EffectEvent(5, "shake", 1.0)]
    both = FrameEffects(zoom + shake, fps=FPS).apply(frame, 6)
    assert not np.array_equal(both, FrameEffects(zoom, fps=FPS).apply(frame, 6))
    assert not np.array_equal(both, FrameEffects(shake, fps=FPS).apply(frame, 6))
    black = np.zeros((H, W, 3), np.uint8)
    one = apply_effects(black, 4, fps=FPS, events=[EffectEvent(4, "flash", 0.4)])
    two = apply_effects(
        black, 4, fps=FPS, events=[EffectEvent(4, "flash", 0.4), EffectEvent(3, "flash", 0.4)]
    )
    assert 255 >= two.mean() > one.mean()
    # an earlier zoom still decaying adds to a new one
    stacked = FrameEffects([EffectEvent(4, "zoom", 1.0), EffectEvent(5, "zoom", 1.0)], fps=FPS)
    assert _diff(stacked.apply(frame, 5), frame) > _diff(
        FrameEffects(zoom, fps=FPS).apply(frame, 5), frame
    )


def test_strength_zero_and_none_style_are_identity(frame: np.ndarray) -> None:
    kinds: list[tuple[int, EffectKind]] = [(2, "flash"), (4, "zoom"), (6, "shake")]
    events = [EffectEvent(i, k, 0.0) for i, k in kinds]
    fx = FrameEffects(events, fps=FPS)
    assert all(fx.apply(frame, i) is frame for i in range(20))
    loud = [EffectEvent(i, k, 1.0) for i, k in kinds]
    lines = [LyricLine(0.0, 5.0, "hello")]
    off = FrameEffects(loud, fps=FPS, style=EffectStyle.none(), lyrics=lines)
    assert all(off.apply(frame, i) is frame for i in range(40))
    assert not any(off.touches(i) for i in range(40))
    no_zoom = FrameEffects(loud, fps=FPS, style=EffectStyle(zoom=0.0, shake=False))
    assert no_zoom.apply(frame, 6) is frame  # zoom off, shake off, flash over by then
    assert no_zoom.apply(frame, 2) is not frame


def test_frames_are_independent_of_render_order(frame: np.ndarray) -> None:
    events = [
        EffectEvent(3, "flash", 0.7),
        EffectEvent(5, "zoom", 0.9),
        EffectEvent(6, "shake", 1.0),
        EffectEvent(30, "shake", 0.5),
        EffectEvent(31, "zoom", 0.3),
    ]
    lines = [LyricLine(0.5, 1.2, "first line"), LyricLine(1.2, None, "second")]
    n = 48
    forward = FrameEffects(events, fps=FPS, lyrics=lines)
    want = [forward.apply(frame, i).copy() for i in range(n)]
    order = np.random.default_rng(3).permutation(n)
    shuffled = FrameEffects(list(reversed(events)), fps=FPS, lyrics=lines)
    for i in order:
        np.testing.assert_array_equal(shuffled.apply(frame, int(i)), want[i])
    threaded = FrameEffects(events, fps=FPS, lyrics=lines)
    with ThreadPoolExecutor(max_workers=3) as pool:
        outs = list(pool.map(lambda i: threaded.apply(frame, int(i)), order))
    for i, out in zip(order, outs, strict=True):
        np.testing.assert_array_equal(out, want[i])
    for i in (4, 20, 31):  # and the one-shot function agrees
        got = apply_effects(frame, i, fps=FPS, events=events, lyrics=lines)
        np.testing.assert_array_equal(got, want[i])


def test_bad_events_and_frames(frame: np.ndarray) -> None:
    with pytest.raises(InputError, match=r"effects\[1\]\.kind: got 'spin'"):
        FrameEffects([EffectEvent(1, "zoom", 1), EffectEvent(2, "spin", 1)], fps=FPS)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="strength"):
        FrameEffects([EffectEvent(1, "zoom", math.nan)], fps=FPS)
    with pytest.raises(ValueError, match="fps"):
        FrameEffects([], fps=0)
    fx = FrameEffects([EffectEvent(0, "zoom", 1)], fps=FPS)
    with pytest.raises(ValueError, match="uint8"):
        fx.apply(frame.astype(np.float32), 0)
    # strengths outside 0..1 are clipped, not errors
    over = FrameEffects([EffectEvent(0, "flash", 7.0)], fps=FPS).apply(frame, 0)
    np.testing.assert_array_equal(
        over, FrameEffects([EffectEvent(0, "flash", 1)], fps=FPS).apply(frame, 0)
    )


def test_signature_follows_what_reaches_the_range() -> None:
    base = [EffectEvent(10, "zoom", 0.5), EffectEvent(100, "flash", 1.0)]
    a = FrameEffects(base, fps=FPS).signature(0, 50)
    assert a == FrameEffects(list(reversed(base)), fps=FPS).signature(0, 50)
    moved_far = [base[0], EffectEvent(101, "flash", 1.0)]
    assert FrameEffects(moved_far, fps=FPS).signature(0, 50) == a
    stronger = [EffectEvent(10, "zoom", 0.6), base[1]]
    assert FrameEffects(stronger, fps=FPS).signature(0, 50) != a
    # an event just before the range that still decays into it counts
    early = [EffectEvent(-3, "shake", 1.0), *base]
    assert FrameEffects(early, fps=FPS).signature(0, 50) != a
    assert FrameEffects(base, fps=FPS, style=EffectStyle(zoom=2)).signature(0, 50) != a
    lines = [LyricLine(1.0, 2.0, "la")]
    with_text = FrameEffects(base, fps=FPS, lyrics=lines)
    assert with_text.signature(0, 50) != a and with_text.signature(60, 90) == FrameEffects(
        base, fps=FPS
    ).signature(60, 90)


# ----------------------------------------------------------------------- style
def test_style_none_forms() -> None:
    for value in ("none", "None", "off", False):
        assert EffectStyle.from_value(value).is_none
        assert EffectStyle.from_value(value) == EffectStyle.none()
    defaults: tuple[object, ...] = (None, True, {})
    for default in defaults:
        assert EffectStyle.from_value(default) == EffectStyle()
    assert not EffectStyle().is_none


def test_style_values() -> None:
    s = EffectStyle.from_value(
        {
            "zoom": False,
            "shake": 0.5,
            "flash_color": [255, 0, 0],
            "text_color": "#00ff00",
            "outline_color": "navy",
            "font": "~/fonts/a.ttf",
            "position": "top",
        }
    )
    assert s.zoom == 0.0 and s.shake == 0.5 and s.flash == 1.0
    assert s.flash_color == (255, 0, 0) and s.text_color == (0, 255, 0)
    assert s.outline_color == (0, 0, 128)
    assert s.font is not None and "~" not in str(s.font)
    dumped = s.model_dump(mode="json")
    assert dumped["flash_color"] == "#ff0000"
    assert EffectStyle.from_value(dumped) == s  # round-trips through JSON/YAML
    rel = EffectStyle(font="fonts/b.otf").with_base(Path("/proj"))
    assert rel.font == Path("/proj/fonts/b.otf")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"zom": 1}, r"effects: zom: unknown key; did you mean 'zoom'\?"),
        ({"position": "left"}, r"effects: position: got 'left'.*'bottom', 'top' or 'center'"),
        ({"flash_color": "blurple"}, r"effects: flash_color: got 'blurple'; expected a colour"),
        ({"text_color": [1, 2]}, r"text_color.*expected a colour"),
        ({"font_size": 2}, r"effects: font_size: got 2"),
        ({"fade_out": -1}, r"effects: fade_out: got -1"),
        ({"zoom": 5}, r"effects: zoom: got 5"),
        ({"font": ""}, r"effects: font: got ''.*font file"),
        ("loud", r"effects: got 'loud'; expected 'none' or a mapping"),
        (3, r"effects: got 3; expected 'none' or a mapping"),
    ],
)
def test_style_errors_name_the_field(value: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        EffectStyle.from_value(value)


# ---------------------------------------------------------------------- lyrics
def _text_rows(out: np.ndarray, frame: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.abs(out.astype(np.int32) - frame).sum(axis=(1, 2)))


def test_lyric_line_appears_at_its_time_and_fades(frame: np.ndarray) -> None:
    lines = [LyricLine(1.0, 2.0, "Sakura"), LyricLine(3.0, None, "Next line")]
    fx = FrameEffects([], fps=FPS, style=EffectStyle(fade_in=0.2, fade_out=0.4), lyrics=lines)
    assert fx.apply(frame, 23) is frame  # 0.958 s: not yet
    on = fx.apply(frame, 24)  # 1.0 s: appears on its frame
    assert on is not frame and _diff(on, frame) > 0
    full = _diff(fx.apply(frame, 36), frame)  # 1.5 s: fully shown
    fading = _diff(fx.apply(frame, 45), frame)  # 1.875 s: fading out
    assert _diff(on, frame) < full and 0 < fading < full
    assert fx.apply(frame, 47) is not frame and fx.apply(frame, 48) is frame  # ends at 2.0 s
    assert fx.apply(frame, 60) is frame  # the gap between lines
    assert fx.apply(frame, 72) is not frame  # the next line at 3.0 s
    last = round((3.0 + LAST_LINE_SECONDS) * FPS)
    assert fx.apply(frame, last - 1) is not frame and fx.apply(frame, last) is frame
    # the text sits in the lower part of the frame by default
    rows = _text_rows(fx.apply(frame, 36), frame)
    assert rows.min() > H // 2


def test_lyric_line_ends_where_the_next_starts(frame: np.ndarray) -> None:
    lines = [LyricLine(0.0, None, "one"), LyricLine(1.0, None, "two")]
    fx = FrameEffects([], fps=FPS, lyrics=lines)
    a, b = fx.apply(frame, 20), fx.apply(frame, 30)
    assert a is not frame and b is not frame and not np.array_equal(a, b)
    # overlapping SRT cues: one line at a time, the earlier one gives way
    cues = [LyricLine(0.0, 3.0, "one"), LyricLine(1.0, 2.0, "two")]
    fx2 = FrameEffects([], fps=FPS, lyrics=cues)
    np.testing.assert_array_equal(fx2.apply(frame, 30), b)


def test_lyric_position_and_wrapping() -> None:
    big = np.full((180, 320, 3), 120, np.uint8)
    line = [LyricLine(0.0, 2.0, "word " * 30)]
    for position, where in (("top", "upper"), ("bottom", "lower"), ("center", "middle")):
        fx = FrameEffects([], fps=FPS, style=EffectStyle(position=position), lyrics=line)
        out = fx.apply(big, 12)
        rows = _text_rows(out, big)
        cols = np.flatnonzero(np.abs(out.astype(np.int32) - big).sum(axis=(0, 2)))
        assert len(rows) > 0.12 * 180 * 2  # wrapped onto several lines
        assert cols.min() >= 320 * 0.04 and cols.max() <= 320 * 0.96  # inside the width
        centre = rows.mean() / 180
        if where == "upper":
            assert centre < 0.4
        elif where == "lower":
            assert centre > 0.6
        else:
            assert 0.35 < centre < 0.65


def test_lyric_text_has_fill_and_outline() -> None:
    grey = np.full((180, 320, 3), 128, np.uint8)
    big = EffectStyle(font_size=0.15)
    fx = FrameEffects([], fps=FPS, style=big, lyrics=[LyricLine(0.0, 2.0, "HELLO")])
    out = fx.apply(grey, 12)
    assert (out == 255).all(axis=2).sum() > 50  # white letters
    assert (out == 0).all(axis=2).sum() > 50  # black outline
    no_outline = FrameEffects(
        [],
        fps=FPS,
        style=EffectStyle(font_size=0.15, outline_width=0),
        lyrics=[LyricLine(0.0, 2.0, "HELLO")],
    ).apply(grey, 12)
    assert (no_outline < 100).all(axis=2).sum() == 0


def test_lyrics_off_and_empty() -> None:
    img = np.zeros((H, W, 3), np.uint8)
    lines = [LyricLine(0.0, 2.0, "hi")]
    off = FrameEffects([], fps=FPS, style=EffectStyle(lyric_text=False), lyrics=lines)
    assert off.apply(img, 10) is img
    blank = FrameEffects([], fps=FPS, lyrics=[LyricLine(0.0, 2.0, "  ")])
    assert blank.apply(img, 10) is img


def test_bundled_font_is_dejavu() -> None:
    p = bundled_font_path()
    assert p.name == "DejaVuSans-Bold.ttf" and p.is_file()
    assert missing_glyphs("Hello, world! é ß", font=p) == ""


def test_bad_font_path_is_an_input_error(tmp_path: Path) -> None:
    lines = [LyricLine(0.0, 1.0, "hi")]
    missing = tmp_path / "nope.ttf"
    with pytest.raises(InputError, match=r"effects\.font: .*nope\.ttf: file not found"):
        FrameEffects([], fps=FPS, style=EffectStyle(font=missing), lyrics=lines)
    junk = tmp_path / "junk.ttf"
    junk.write_text("not a font")
    with pytest.raises(InputError, match=r"effects\.font: .*junk\.ttf: not a font"):
        FrameEffects([], fps=FPS, style=EffectStyle(font=junk), lyrics=lines)
    with pytest.raises(InputError, match="not a file"):
        load_font(tmp_path, size=12)


def test_cjk_with_the_default_font_is_a_clear_error() -> None:
    lines = [LyricLine(0.0, 2.0, "hello"), LyricLine(2.0, 4.0, "桜が舞う")]
    with pytest.raises(InputError, match=r"DejaVuSans-Bold\.ttf has no glyph for '桜が舞う'.*CJK"):
        FrameEffects([], fps=FPS, lyrics=lines)
    assert missing_glyphs("a 桜 b", font=bundled_font_path()) == "桜"


def test_cjk_lyrics_render_real_glyphs() -> None:
    font_path = _cjk_font()
    text = "桜の花びら 한국어 中文"
    assert missing_glyphs(text, font=font_path) == ""
    font = load_font(font_path, size=32)
    tofu = np.asarray(font.getmask("\U0010ffff"))
    glyphs = [np.asarray(font.getmask(ch)) for ch in "桜の한中"]
    for g in glyphs:  # each is its own shape, not the missing-glyph box
        assert g.sum() > 0
        assert g.shape != tofu.shape or not np.array_equal(g, tofu)
    img = np.full((180, 320, 3), 60, np.uint8)
    style = EffectStyle(font=font_path, font_size=0.15)
    out = FrameEffects([], fps=FPS, style=style, lyrics=[LyricLine(0.0, 2.0, text)]).apply(img, 12)
    assert (out == 255).all(axis=2).sum() > 100  # white strokes of the characters
    other = FrameEffects(
        [], fps=FPS, style=style, lyrics=[LyricLine(0.0, 2.0, "中文 한국어 桜の花びら")]
    ).apply(img, 12)
    assert not np.array_equal(out, other)


def test_cjk_text_wraps_without_spaces() -> None:
    font_path = _cjk_font()
    img = np.full((180, 320, 3), 60, np.uint8)
    style = EffectStyle(font=font_path)
    short = FrameEffects([], fps=FPS, style=style, lyrics=[LyricLine(0, 2, "桜")]).apply(img, 12)
    long_text = "桜の花びらが舞い落ちる空を見上げて彼女は遠い約束を思い出していた"
    long = FrameEffects([], fps=FPS, style=style, lyrics=[LyricLine(0, 2, long_text)]).apply(
        img, 12
    )
    assert len(_text_rows(long, img)) > 2 * len(_text_rows(short, img))
    cols = np.flatnonzero(np.abs(long.astype(np.int32) - img).sum(axis=(0, 2)))
    assert cols.min() > 0 and cols.max() < 319
