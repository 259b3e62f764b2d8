"""The procedural demo: song, keyframes, lyrics and project files."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from douga.demo import (
    LEAD_IN,
    demo_song_structure,
    make_demo_keyframes,
    make_demo_lyrics,
    make_demo_song,
    write_demo_project,
)
from douga.demo_art import shot_plan

SR = 22050


@pytest.fixture(scope="module")
def song() -> np.ndarray:
    return make_demo_song(seconds=12.0, sr=SR)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_song_has_the_stated_length_and_is_not_silent(song: np.ndarray) -> None:
    assert song.dtype == np.float32
    assert song.shape == (12 * SR, 2)
    assert np.all(np.isfinite(song))
    assert 0.5 < np.max(np.abs(song)) <= 1.0
    assert _rms(song) > 0.05


def test_song_is_deterministic_and_seeded() -> None:
    a = make_demo_song(seconds=6.0, sr=SR, seed=1)
    b = make_demo_song(seconds=6.0, sr=SR, seed=1)
    c = make_demo_song(seconds=6.0, sr=SR, seed=2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chorus_is_louder_than_the_calm_part(song: np.ndarray) -> None:
    st = demo_song_structure(seconds=12.0)
    labels = [s[0] for s in st.sections]
    assert labels[-1] == "chorus" and "verse" in labels
    mono = song.mean(axis=1)
    spans = {label: mono[int(a * SR) : int(b * SR)] for label, a, b in st.sections}
    assert _rms(spans["chorus"]) > 1.5 * _rms(spans["verse"])


def test_beats_are_on_the_grid_and_audible(song: np.ndarray) -> None:
    st = demo_song_structure(seconds=12.0, bpm=120)
    assert st.beats[0] == pytest.approx(LEAD_IN)
    assert np.allclose(np.diff(st.beats), 0.5)
    assert st.downbeats == st.beats[::4]
    # the lead-in is silence, and every downbeat carries a kick: energy jumps there
    mono = song.mean(axis=1)
    assert _rms(mono[: int(0.9 * LEAD_IN * SR)]) < 1e-4
    for t in st.downbeats[1:]:
        i = int(t * SR)
        before, after = mono[i - 2000 : i - 200], mono[i : i + 1800]
        assert _rms(after) > _rms(before)


def test_structure_of_the_default_song() -> None:
    st = demo_song_structure()
    assert st.chorus_bar == 9
    assert [s[0] for s in st.sections] == ["intro", "verse", "chorus"]
    assert st.sections[-1][2] == 40.0


@pytest.mark.parametrize("size", [(320, 180), (200, 150)])
def test_keyframes_shape_and_type(size: tuple[int, int]) -> None:
    w, h = size
    frames = make_demo_keyframes(n=7, width=w, height=h)
    assert len(frames) == 7
    for f in frames:
        assert f.dtype == np.uint8 and f.shape == (h, w, 3)


def test_keyframes_differ_and_are_mostly_flat() -> None:
    frames = make_demo_keyframes(n=7, width=320, height=180)
    for a, b in itertools.pairwise(frames):
        assert np.mean(np.any(a != b, axis=2)) > 0.002
    for f in frames:
        colors, counts = np.unique(f.reshape(-1, 3), axis=0, return_counts=True)
        top = np.sort(counts)[::-1][:16].sum() / counts.sum()
        assert top > 0.8, f"only {top:.0%} of pixels in the 16 main colours"
        assert len(colors) > 16  # but outlines are anti-aliased


def test_keyframes_have_a_different_shot_and_are_deterministic() -> None:
    shots = shot_plan(7)
    assert shots[0] == "wide" and shots[-1] == "close"
    frames = make_demo_keyframes(n=7, width=160, height=90, seed=4)
    again = make_demo_keyframes(n=7, width=160, height=90, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(frames, again, strict=True))
    cut = shots.index("close")
    # the shot change is a far bigger change of picture than a pose change
    pose_change = np.mean(np.abs(frames[1].astype(int) - frames[0]))
    shot_change = np.mean(np.abs(frames[cut].astype(int) - frames[cut - 1]))
    assert shot_change > 4 * pose_change


def test_lyrics_are_timed_lrc_inside_the_song() -> None:
    text = make_demo_lyrics(seconds=40.0)
    stamps = re.findall(r"^\[(\d\d):(\d\d\.\d\d)\](.+)$", text, flags=re.M)
    assert len(stamps) >= 6
    times = [int(m) * 60 + float(s) for m, s, _ in stamps]
    assert times == sorted(times) and times[0] > 0 and times[-1] < 40.0


def test_write_demo_project(tmp_path: object) -> None:
    from pathlib import Path

    import soundfile as sf
    import yaml
    from PIL import Image

    out = Path(str(tmp_path)) / "demo"
    path = write_demo_project(out, seconds=12.0, width=160, height=96)
    assert path == out / "project.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["audio"] == "song.wav" and data["lyrics"] == "lyrics.lrc"
    assert data["output"] == {"width": 160, "height": 96, "fps": 24}
    kfs = data["keyframes"]
    assert 6 <= len(kfs) <= 8
    assert sum(1 for k in kfs if k.get("cut")) == 1
    pins = [k["at"] for k in kfs if "at" in k]
    assert pins == [f"{demo_song_structure(seconds=12.0).chorus_bar}:1"]
    assert sum(1 for k in kfs if k.get("text")) >= 2
    for k in kfs:
        with Image.open(out / k["image"]) as im:
            assert im.size == (160, 96) and im.mode == "RGB"
    info = sf.info(str(out / "song.wav"))
    assert info.samplerate == 44100 and info.channels == 2
    assert info.duration == pytest.approx(12.0, abs=1e-3)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_demo_project_with_few_keyframes_loads(tmp_path: object, n: int) -> None:
    """Every keyframe count gives a valid project (3 once wrote `text` twice)."""
    from pathlib import Path

    from douga.project import load_project

    proj = load_project(write_demo_project(Path(str(tmp_path)), seconds=8.0, width=64,
                                           height=48, n_keyframes=n))
    assert len(proj.keyframes) == n
