"""Tests for the timeline planner (dynamic alignment), pacing, easing and effect events.

Every MusicMap here is built in code: a steady click grid at a known BPM with
sections of chosen intensity.
"""

from __future__ import annotations

import itertools
import math
import time
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from douga.errors import InputError
from douga.music.musicmap import MusicMap, Section
from douga.timeline import FrameSpec, KeyframeRequest, Timeline, plan_from_requests, plan_timeline
from douga.timeline.effects import ZOOM_MIN
from douga.timeline.pacing import drawing_hold, ease_pulse, eased_t, hold_frames


def make_map(
    *,
    bpm: float = 120.0,
    bars: int = 64,
    meter: int = 4,
    offset: float = 0.0,
    sections: list[tuple[int, int, str, float]] | None = None,
    tail: float = 0.0,
    onsets: list[tuple[float, float]] | None = None,
) -> MusicMap:
    """A steady beat grid; ``sections`` as (first bar, end bar, label, intensity), 0-based bars."""
    period = 60.0 / bpm
    beats = [offset + i * period for i in range(bars * meter)]
    duration = offset + bars * meter * period + tail
    rows = sections if sections is not None else [(0, bars, "all", 0.5)]
    secs = [
        Section(start=offset + a * meter * period, end=offset + b * meter * period,
                label=label, intensity=x)
        for a, b, label, x in rows
    ]
    level = [next((s.intensity for s in secs if s.start <= b < s.end), 0.5) for b in beats]
    ons = onsets or []
    return MusicMap(
        duration=duration, tempo=bpm, tempo_curve=[(b, bpm) for b in beats], beats=beats,
        downbeats=beats[::meter], meter=meter, onsets=[o for o, _ in ons],
        onset_strength=[s for _, s in ons], sections=secs, beat_intensity=level,
    )


def silent_map(duration: float = 20.0) -> MusicMap:
    return MusicMap(duration=duration, tempo=0.0, tempo_curve=[], beats=[], downbeats=[],
                    meter=4, onsets=[], onset_strength=[], sections=[], beat_intensity=[])


def kfs(n: int, **overrides: KeyframeRequest) -> list[KeyframeRequest]:
    """n unpinned requests; ``overrides`` maps "k3" to the request for keyframe 3."""
    return [overrides.get(f"k{i}", KeyframeRequest(image=f"kf/{i:02d}.png")) for i in range(n)]


# ----------------------------------------------------------------- placement
def test_pins_land_on_nearest_frame() -> None:
    mm = make_map(offset=0.013)
    reqs = kfs(5, k1=KeyframeRequest("b.png", at_seconds=12.51),
               k3=KeyframeRequest("d.png", at_bar=9, at_beat=3))
    for fps in (24.0, 25.0, 30.0, 23.976):
        tl = plan_from_requests(reqs, mm, fps=fps)
        pin_s = tl.keyframes[1]
        assert pin_s.anchor_time == 12.51
        assert pin_s.frame == round(12.51 * fps)
        assert pin_s.time == pin_s.frame / fps
        pin_b = tl.keyframes[3]
        assert pin_b.anchor_time == pytest.approx(mm.time_at(9, 3))
        assert pin_b.frame == round(mm.time_at(9, 3) * fps)
        assert pin_b.anchor == "9:3"


def test_unpinned_land_on_beats_and_downbeats() -> None:
    mm = make_map(offset=0.31, bpm=128.0)
    tl = plan_from_requests(kfs(8), mm, fps=24)
    beats = np.asarray(mm.beats)
    for kf in tl.keyframes[1:]:
        assert np.min(np.abs(beats - kf.anchor_time)) < 1e-9
        assert kf.anchor is not None and kf.anchor.endswith(":1")  # long shares: downbeats
        assert abs(kf.time - kf.anchor_time) <= 0.5 / 24 + 1e-9


def test_section_starts_attract_keyframes() -> None:
    sections = [(0, 18, "intro", 0.2), (18, 30, "verse", 0.5), (30, 64, "chorus", 0.9)]
    mm = make_map(sections=sections)
    tl = plan_from_requests(kfs(4), mm, fps=24)
    # the ideal quarter points are bars 17, 33, 49; sections start at bars 19 and 31
    assert [k.anchor for k in tl.keyframes][:3] == ["1:1", "19:1", "31:1"]


def test_equal_spacing_by_default() -> None:
    mm = make_map(bars=64)  # 128 s
    tl = plan_from_requests(kfs(4), mm, fps=24)
    assert [k.time for k in tl.keyframes] == [0.0, 32.0, 64.0, 96.0]
    assert [k.anchor for k in tl.keyframes] == ["1:1", "17:1", "33:1", "49:1"]


def test_explicit_beats_get_more_time() -> None:
    mm = make_map(bars=16)  # 64 beats, 32 s; 8 keyframes → 8 beats each by default
    tl = plan_from_requests(kfs(8, k3=KeyframeRequest("long.png", beats=16)), mm, fps=24)
    times = [k.time for k in tl.keyframes] + [mm.duration]
    shows = np.diff(times) / 0.5  # in beats
    assert abs(shows[3] - 16) <= 1
    assert all(shows[3] > s + 4 for i, s in enumerate(shows) if i != 3)


def test_long_text_gets_more_time() -> None:
    mm = make_map(bars=32)
    long_text = " ".join(["petals"] * 60)
    tl = plan_from_requests(kfs(6, k2=KeyframeRequest("t.png", text=long_text)), mm, fps=24)
    shows = np.diff([k.time for k in tl.keyframes] + [mm.duration])
    assert shows[2] == max(shows)
    assert shows[2] > 1.5 * np.median(np.delete(shows, 2))


def test_first_from_start_last_to_end() -> None:
    mm = make_map(bars=16)
    tl = plan_from_requests(kfs(3), mm, fps=24)
    assert tl.frame_count == round(mm.duration * 24) == len(tl.frames)
    assert tl.keyframes[0].frame == 0
    last = tl.keyframes[-1]
    assert all(f == FrameSpec("hold", 2, 2, 0.0) for f in tl.frames[last.frame + 1:])
    # a first keyframe pinned later holds from frame 0
    tl = plan_from_requests(kfs(3, k0=KeyframeRequest("a.png", at_bar=2)), mm, fps=24)
    assert tl.keyframes[0].frame == 48
    assert all(f == FrameSpec("hold", 0, 0, 0.0) for f in tl.frames[:48])
    assert tl.frames[48] == FrameSpec("key", 0, 0, 0.0)


def test_silent_song_places_evenly_in_free_time() -> None:
    tl = plan_from_requests(kfs(5), silent_map(20.0), fps=24)
    assert [k.time for k in tl.keyframes] == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert all(k.anchor is None for k in tl.keyframes)
    assert len(tl.frames) == tl.frame_count == 480
    assert tl.extra["pacing"][0]["timing"] == "twos"


def test_speed_24_keyframes_three_minutes() -> None:
    mm = make_map(bars=90, sections=[(0, 8, "intro", 0.2), (8, 40, "verse", 0.5),
                                     (40, 56, "chorus", 0.9), (56, 90, "outro", 0.3)],
                  onsets=[(o, 0.9) for o in np.arange(0, 180, 0.25)])
    start = time.perf_counter()
    tl = plan_from_requests(kfs(24), mm, fps=30)
    assert time.perf_counter() - start < 1.0
    assert tl.frame_count == 5400


# ----------------------------------------------------------------- pacing
def test_timing_thresholds_and_fps_scaling() -> None:
    levels = (0.1, 0.34, 0.35, 0.5, 0.7, 0.71, 1.0)
    assert [drawing_hold(x) for x in levels] == [3, 3, 2, 2, 2, 1, 1]
    assert hold_frames(2, 24) == 2 and hold_frames(2, 48) == 4 and hold_frames(1, 12) == 1
    assert hold_frames(2, 30) == 2.5


def _drawing_gaps(tl: Timeline, lo: int, hi: int) -> set[int]:
    """Distances between consecutive new drawings (key/between) in frames [lo, hi)."""
    new = [k for k in range(lo, hi) if tl.frames[k].kind != "hold"]
    return set(np.diff(new).tolist())


@pytest.mark.parametrize(("fps", "gaps"), [(24, ({3}, {2}, {1})), (48, ({6}, {4}, {2}))])
def test_ones_twos_threes_by_intensity(fps: int, gaps: tuple[set[int], ...]) -> None:
    sections = [(0, 8, "calm", 0.1), (8, 16, "mid", 0.5), (16, 32, "hot", 0.95)]
    mm = make_map(bars=32, sections=sections)
    tl = plan_from_requests(kfs(4), mm, fps=fps)
    assert [k.anchor for k in tl.keyframes] == ["1:1", "9:1", "17:1", "25:1"]
    assert [p["timing"] for p in tl.extra["pacing"]] == ["threes", "twos", "ones"]
    bar = 2 * fps  # frames per bar at 120 BPM
    for s, expected in enumerate(gaps):
        assert _drawing_gaps(tl, s * 8 * bar, (s + 1) * 8 * bar) == expected
    # a hold repeats the drawing before it exactly
    for prev, cur in zip(tl.frames, tl.frames[1:], strict=False):
        if cur.kind == "hold" and cur.a != cur.b:
            assert (cur.a, cur.b, cur.t) == (prev.a, prev.b, prev.t)


def test_fractional_hold_keeps_the_drawing_rate() -> None:
    mm = make_map(bars=8, bpm=90.0)  # 90 BPM: beats do not fall on a 2.5-frame grid
    tl = plan_from_requests(kfs(2), mm, fps=30)  # twos at 30 fps → 2.5 frames per drawing
    gaps = _drawing_gaps(tl, 0, tl.keyframes[1].frame + 1)
    assert gaps <= {1, 2, 3}


def test_easing_arrives_on_the_beat() -> None:
    v = np.linspace(0, 1, 101)
    assert np.all(np.diff(ease_pulse(v)) > 0)
    beats = np.arange(0, 8.0, 0.5)
    times = np.linspace(0.01, 1.99, 199)
    t = eased_t(times, t0=0.0, t1=2.0, beats=beats)
    assert np.all((t > 0) & (t < 1)) and np.all(np.diff(t) > 0)
    # linear in beat time: a quarter of the way at each beat
    at_beats = eased_t(np.array([0.5, 1.0, 1.5]), t0=0.0, t1=2.0, beats=beats)
    np.testing.assert_allclose(at_beats, [0.25, 0.5, 0.75])
    # inside every beat the motion accelerates into the beat
    step = np.diff(eased_t(np.array([1.51, 1.52, 1.98, 1.99]), t0=0.0, t1=2.0, beats=beats))
    assert step[2] > 2 * step[0]


def test_a_long_gap_holds_then_moves_in_its_last_beats() -> None:
    # 16 beats between the keyframes: a drift of a tenth, then the move in the last 4
    beats = np.arange(0, 20.0, 0.5)
    at = eased_t(np.array([2.0, 6.0, 6.5, 7.0, 7.5]), t0=0.0, t1=8.0, beats=beats)
    np.testing.assert_allclose(at, [0.1 / 3, 0.1, 0.325, 0.55, 0.775])
    times = np.linspace(0.01, 7.99, 400)
    assert np.all(np.diff(eased_t(times, t0=0.0, t1=8.0, beats=beats)) > 0)


# ----------------------------------------------------------------- cuts
def _assert_no_between_across(tl: Timeline, boundary_frames: list[int]) -> None:
    for kf_a, kf_b in zip(tl.keyframes, tl.keyframes[1:], strict=False):
        if any(kf_a.frame < s <= kf_b.frame for s in boundary_frames) or kf_b.cut:
            span = tl.frames[kf_a.frame + 1:kf_b.frame]
            assert all(f == FrameSpec("hold", kf_a.index, kf_a.index, 0.0) for f in span)


def test_cut_keyframe_has_no_inbetween() -> None:
    mm = make_map(bars=16)
    tl = plan_from_requests(kfs(4, k2=KeyframeRequest("c.png", cut=True)), mm, fps=24)
    assert tl.keyframes[2].cut
    a, b = tl.keyframes[1].frame, tl.keyframes[2].frame
    assert all(f == FrameSpec("hold", 1, 1, 0.0) for f in tl.frames[a + 1:b])
    assert any(f.kind == "between" for f in tl.frames[b + 1:tl.keyframes[3].frame])
    assert any(e.kind == "flash" and e.frame == b for e in tl.effects)


def test_cut_at_sections() -> None:
    sections = [(0, 5, "intro", 0.2), (5, 13, "verse", 0.5), (13, 19, "chorus", 0.9),
                (19, 32, "outro", 0.3)]
    mm = make_map(bars=32, sections=sections)
    starts = [round(s.start * 24) for s in mm.sections[1:]]
    plain = plan_from_requests(kfs(6), mm, fps=24)
    tl = plan_from_requests(kfs(6), mm, fps=24, cut_at_sections=True)
    assert tl.extra["cut_at_sections"] is True
    assert sum(k.cut for k in tl.keyframes) >= 2 and not any(k.cut for k in plain.keyframes)
    _assert_no_between_across(tl, starts)
    assert sum(k.frame in starts for k in tl.keyframes) >= sum(
        k.frame in starts for k in plain.keyframes)


# ----------------------------------------------------------------- effects
def test_effects_on_downbeats_with_strength_from_intensity() -> None:
    sections = [(0, 8, "calm", 0.2), (8, 16, "hot", 0.75), (16, 24, "peak", 1.0)]
    # beats every 0.5 s; 40.0 s is on a beat, 40.02 s is a beat's onset picked a
    # little late, 40.25 s an off-beat onset, 10 s is calm, 41 s is weak
    onsets = [(40.0, 0.95), (10.0, 0.95), (41.0, 0.5), (45.02, 0.9), (44.25, 0.95)]
    mm = make_map(bars=24, sections=sections, onsets=onsets)
    tl = plan_from_requests(kfs(3), mm, fps=24)
    downbeat_frames = {round(d * 24) for d in mm.downbeats}
    zoom = {e.frame: e.strength for e in tl.effects if e.kind == "zoom"}
    # every downbeat lands, the calm ones with a light punch
    assert set(zoom) == downbeat_frames - {0} or set(zoom) == downbeat_frames
    calm = [s for f, s in zoom.items() if f < 8 * 48]
    assert calm and all(ZOOM_MIN <= s < 0.3 for s in calm)
    assert max(calm) < min(s for f, s in zoom.items() if f >= 8 * 48)
    assert max(s for f, s in zoom.items() if 8 * 48 <= f < 16 * 48) < min(
        s for f, s in zoom.items() if f >= 16 * 48)
    flashes = {e.frame for e in tl.effects if e.kind == "flash"}
    assert {8 * 48, 16 * 48} <= flashes and 0 not in flashes
    shakes = [e.frame for e in tl.effects if e.kind == "shake"]
    assert shakes == [960, 1080]  # the late onset snaps onto its beat's frame
    keys = [(e.frame, e.kind) for e in tl.effects]
    assert len(keys) == len(set(keys))
    assert all(0 <= e.strength <= 1 for e in tl.effects)
    assert plan_from_requests(kfs(3), mm, fps=24, effects=False).effects == []


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("reqs", "mm", "fragment"),
    [
        (kfs(4, k1=KeyframeRequest("a", at_bar=6), k3=KeyframeRequest("b", at_bar=5)),
         make_map(bars=16), "keyframes[3].at: pin 5:1 (8.00 s) is before keyframes[1].at 6:1"),
        (kfs(3, k2=KeyframeRequest("a", at_bar=40)), make_map(bars=16), "after the end"),
        (kfs(3, k2=KeyframeRequest("a", at_seconds=40.0)), make_map(bars=16), "after the end"),
        (kfs(3, k1=KeyframeRequest("a", at_seconds=8.0), k2=KeyframeRequest("b", at_seconds=8.01)),
         make_map(bars=16), "same frame"),
        (kfs(4, k1=KeyframeRequest("a", at_seconds=8.0), k3=KeyframeRequest("b", at_seconds=8.05)),
         make_map(bars=16), "do not fit"),
        (kfs(3, k1=KeyframeRequest("a", at_seconds=0.01)), make_map(bars=16), "keyframes[1].at"),
        (kfs(30), silent_map(1.0), "30 keyframes but the song has only 24 frames"),
        (kfs(2, k1=KeyframeRequest("a", at_bar=2)), silent_map(), "has no beats"),
        (kfs(2, k1=KeyframeRequest("a", beats=-1)), make_map(), "keyframes[1].beats"),
        ([], make_map(), "at least one keyframe"),
    ],
)
def test_impossible_requests(reqs: list[KeyframeRequest], mm: MusicMap, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        plan_from_requests(reqs, mm, fps=24)
    assert fragment in str(info.value)


def test_bad_fps() -> None:
    with pytest.raises(InputError, match=r"output\.fps"):
        plan_from_requests(kfs(2), make_map(), fps=0)


# ----------------------------------------------------------------- adapters and JSON
def test_plan_timeline_reads_a_project(tmp_path: pytest.TempPathFactory) -> None:
    anchor = SimpleNamespace(bar=5, beat=1.0, seconds=None)
    project = SimpleNamespace(
        keyframes=[
            SimpleNamespace(image=tmp_path / "a.png", text="hello", at=None, cut=False, beats=None),
            SimpleNamespace(image=tmp_path / "b.png", text=None, at=anchor, cut=True, beats=None),
            SimpleNamespace(image=tmp_path / "c.png", text=None, at=None, cut=False, beats=8.0),
        ],
        output=SimpleNamespace(fps=24, width=64, height=48),
    )
    tl = plan_timeline(project, make_map(bars=16))
    assert tl.keyframes[1].frame == 192 and tl.keyframes[1].cut
    assert tl.keyframes[0].image == str(tmp_path / "a.png")


def test_plan_timeline_with_the_real_project() -> None:
    project_mod = pytest.importorskip("douga.project")
    project = project_mod.Project(
        audio="song.wav",
        keyframes=[
            project_mod.Keyframe(image="a.png", text="she looks up"),
            project_mod.Keyframe(image="b.png", at="5:1", cut=True),
            project_mod.Keyframe(image="c.png", at="28s"),
        ],
        output=project_mod.OutputSpec(fps=30),
    )
    tl = plan_timeline(project, make_map(bars=16))
    assert [(k.frame, k.anchor, k.cut) for k in tl.keyframes] == [
        (0, "1:1", False), (240, "5:1", True), (840, "15:1", False)]


def test_json_round_trip(tmp_path: pytest.TempPathFactory) -> None:
    mm = make_map(bars=16, sections=[(0, 8, "a", 0.2), (8, 16, "b", 0.9)])
    tl = plan_from_requests(kfs(4, k2=KeyframeRequest("x", cut=True)), mm, fps=24)
    path = tmp_path / "timeline.json"  # type: ignore[operator]
    tl.save(path)
    assert Timeline.load(path) == tl


# ----------------------------------------------------------------- properties
@st.composite
def music_maps(draw: st.DrawFn) -> MusicMap:
    duration = draw(st.floats(0.0, 40.0))
    sections = []
    cuts = sorted(draw(st.lists(st.floats(0.0, duration), max_size=4)))
    for a, b in zip([0.0, *cuts], [*cuts, duration], strict=True):
        sections.append(Section(a, b, "s", draw(st.floats(0.0, 1.0))))
    if draw(st.booleans()) or duration < 1:
        return MusicMap(duration=duration, tempo=0.0, tempo_curve=[], beats=[], downbeats=[],
                        meter=4, onsets=[], onset_strength=[], sections=sections,
                        beat_intensity=[])
    bpm = draw(st.floats(50.0, 220.0))
    meter = draw(st.integers(2, 7))
    t = draw(st.floats(0.0, 1.5))
    beats = []
    while t < duration:
        beats.append(t)
        t += 60.0 / bpm * draw(st.sampled_from([0.9, 1.0, 1.0, 1.1]))
    phase = draw(st.integers(0, meter - 1))
    onsets = sorted(draw(st.lists(st.floats(0.0, duration), max_size=10)))
    return MusicMap(
        duration=duration, tempo=bpm, tempo_curve=[(b, bpm) for b in beats], beats=beats,
        downbeats=beats[phase::meter], meter=meter, onsets=onsets,
        onset_strength=[draw(st.floats(0.0, 1.0)) for _ in onsets], sections=sections,
        beat_intensity=[draw(st.floats(0.0, 1.0)) for _ in beats],
    )


@st.composite
def requests_st(draw: st.DrawFn) -> KeyframeRequest:
    pin = draw(st.sampled_from(["none", "none", "none", "bar", "seconds"]))
    return KeyframeRequest(
        image="k.png",
        text=draw(st.one_of(st.none(), st.text(alphabet="ab ", max_size=80))),
        at_bar=draw(st.integers(-1, 20)) if pin == "bar" else None,
        at_beat=draw(st.one_of(st.none(), st.floats(1.0, 5.0))) if pin == "bar" else None,
        at_seconds=draw(st.floats(-1.0, 45.0)) if pin == "seconds" else None,
        cut=draw(st.booleans()),
        beats=draw(st.sampled_from([None] * 20 + [0.5, 4.0, 16.0, 40.0, -1.0])),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mm=music_maps(),
    reqs=st.lists(requests_st(), min_size=1, max_size=10),
    fps=st.sampled_from([8.0, 12.0, 23.976, 24.0, 25.0, 30.0, 60.0]),
    cut_at_sections=st.booleans(),
)
def test_random_plans_are_well_formed(
    mm: MusicMap, reqs: list[KeyframeRequest], fps: float, cut_at_sections: bool
) -> None:
    try:
        tl = plan_from_requests(reqs, mm, fps=fps, cut_at_sections=cut_at_sections)
    except InputError:
        return
    assert tl.frame_count == math.floor(mm.duration * fps + 0.5) == len(tl.frames)
    frames = [k.frame for k in tl.keyframes]
    assert all(0 <= f < tl.frame_count for f in frames)
    assert all(a < b for a, b in itertools.pairwise(frames))
    assert sum(f.kind == "key" for f in tl.frames) == len(frames)
    for i, (k, r) in enumerate(zip(tl.keyframes, reqs, strict=True)):
        assert tl.frames[k.frame] == FrameSpec("key", i, i, 0.0)
        assert k.time == k.frame / fps
        if r.pinned:
            assert k.frame == min(math.floor(k.anchor_time * fps + 0.5), tl.frame_count - 1)
        elif i == 0:
            assert k.frame == 0
    prev = None
    for f in tl.frames:
        assert 0.0 <= f.t < 1.0
        if f.kind == "between":
            assert f.b == f.a + 1 and 0.0 < f.t < 1.0
        elif f.kind == "hold" and f.a != f.b:
            assert prev is not None and (f.a, f.b, f.t) == (prev.a, prev.b, prev.t)
        elif f.kind == "hold":
            assert f.t == 0.0
        prev = f
    for a, b in zip(tl.keyframes, tl.keyframes[1:], strict=False):
        if b.cut:
            assert all(f.kind == "hold" and f.a == f.b == a.index
                       for f in tl.frames[a.frame + 1:b.frame])
    keys = [(e.frame, e.kind) for e in tl.effects]
    assert len(keys) == len(set(keys))
    assert all(0 <= e.frame < tl.frame_count and 0 <= e.strength <= 1 for e in tl.effects)
    assert Timeline.from_dict(tl.to_dict()) == tl
