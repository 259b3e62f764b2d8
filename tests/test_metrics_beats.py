"""Tests for douga.metrics.beats: mir_eval beat scores, annotation files, folder scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from douga.errors import DougaError, InputError
from douga.metrics.beats import (
    BeatScores,
    PieceScore,
    format_table,
    read_times,
    score_beats,
    score_folder,
    summarize,
)

SR = 8000


def grid(bpm: float, seconds: float, *, start: float = 0.0) -> np.ndarray:
    return np.arange(start, seconds, 60.0 / bpm)


def write_click_song(folder: Path, name: str, *, bpm: float = 120.0, seconds: float = 12.0,
                     meter: int | None = 4) -> np.ndarray:
    """A click track NAME.wav with its NAME.beats.txt (and NAME.downbeats.txt if ``meter``)."""
    beats = grid(bpm, seconds)
    y = np.zeros(int(seconds * SR), dtype=np.float32)
    click = np.sin(2 * np.pi * 1000 * np.arange(200) / SR) * np.exp(-np.arange(200) / 40)
    for t in beats:
        i = int(t * SR)
        y[i : i + 200] += click[: len(y) - i]
    sf.write(folder / f"{name}.wav", y, SR)
    (folder / f"{name}.beats.txt").write_text("".join(f"{t:.6f}\n" for t in beats))
    if meter:
        (folder / f"{name}.downbeats.txt").write_text("".join(f"{t:.6f}\n" for t in beats[::meter]))
    return beats


# --------------------------------------------------------------------------- score_beats


def test_perfect_estimate_scores_one() -> None:
    ref = grid(120, 30)
    s = score_beats(ref, ref)
    assert s == BeatScores(f_measure=1.0, cmlt=1.0, amlt=1.0)


def test_off_beat_estimate_has_low_f_and_cmlt_but_full_amlt() -> None:
    ref = grid(120, 30)
    off = ref + 0.25  # half a beat period late: locked to the off-beats
    s = score_beats(ref, off)
    assert s.f_measure < 0.05
    assert s.cmlt == 0.0
    assert s.amlt > 0.95  # AMLt accepts the off-beat metrical level


def test_double_tempo_estimate() -> None:
    ref = grid(100, 30)
    s = score_beats(ref, grid(200, 30))
    assert s.f_measure == pytest.approx(2 / 3, abs=0.02)  # every ref hit, half the estimates wrong
    assert s.cmlt == 0.0
    assert s.amlt > 0.95


def test_window_is_70_ms() -> None:
    ref = grid(120, 30)
    assert score_beats(ref, ref + 0.06).f_measure == 1.0
    assert score_beats(ref, ref + 0.08).f_measure == 0.0
    assert score_beats(ref, ref + 0.08, window=0.1).f_measure == 1.0


def test_first_five_seconds_are_skipped() -> None:
    ref = grid(120, 30)
    est = ref.copy()
    early = est < 5.0
    est[early] += 0.2  # all wrong, but only where the metric does not look
    assert score_beats(ref, est).f_measure == 1.0
    assert score_beats(ref, est, skip=0.0).f_measure < 0.9
    # estimates missing before 5 s cost nothing either
    assert score_beats(ref, ref[ref >= 5.0]).f_measure == 1.0


def test_empty_estimate_scores_zero() -> None:
    s = score_beats(grid(120, 30), [])
    assert s == BeatScores(0.0, 0.0, 0.0)


def test_bad_sequences_are_input_errors() -> None:
    with pytest.raises(InputError, match=r"estimated beats.*increasing"):
        score_beats([1.0, 2.0], [2.0, 1.0])
    with pytest.raises(InputError, match="reference beats"):
        score_beats([1.0, float("nan")], [1.0])
    with pytest.raises(InputError, match="skip"):
        score_beats([1.0], [1.0], skip=-1)


# --------------------------------------------------------------------------- files


def test_read_times_skips_blanks_comments_and_extra_columns(tmp_path: Path) -> None:
    f = tmp_path / "a.beats.txt"
    f.write_text("# time beat\n0.5 1\n\n1.0\t2\n1.5,3\n")
    assert read_times(f).tolist() == [0.5, 1.0, 1.5]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0.5\nabc\n", r":2: got 'abc'; expected a time in seconds"),
        ("0.5\n0.4\n", r":2: time 0.4 follows 0.5"),
        ("-1\n", r":1: got '-1'"),
        ("\n# nothing\n", "no times found"),
    ],
)
def test_read_times_errors_name_file_and_line(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "song.beats.txt"
    f.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        read_times(f)
    assert str(f) in str(err.value)


# --------------------------------------------------------------------------- folders


def test_score_folder_with_stub_analyser(tmp_path: Path) -> None:
    ref_a = write_click_song(tmp_path, "a_steady", bpm=120)
    write_click_song(tmp_path, "b_nodown", bpm=90, meter=None)
    seen: list[Path] = []
    progress: list[tuple[int, int, str]] = []

    def stub(path: Path) -> tuple[list[float], list[float]]:
        seen.append(path)
        beats = read_times(path.with_name(path.stem + ".beats.txt"))
        if path.stem == "b_nodown":
            beats = beats + 0.3  # wrong phase
        return list(beats), list(beats[::4])

    scores = score_folder(tmp_path, analyze=stub, progress=lambda *a: progress.append(a))
    assert [s.name for s in scores] == ["a_steady", "b_nodown"]
    assert [p.name for p in seen] == ["a_steady.wav", "b_nodown.wav"]
    assert progress == [(1, 2, "a_steady"), (2, 2, "b_nodown")]
    a, b = scores
    assert a.beats == BeatScores(1.0, 1.0, 1.0)
    assert a.downbeats is not None and a.downbeats.f_measure == 1.0
    assert b.beats.f_measure < 0.1
    assert b.downbeats is None
    assert len(ref_a) == 24

    m = summarize(scores)
    assert m.n_pieces == 2 and m.n_downbeat_pieces == 1
    assert m.f_measure == pytest.approx((1.0 + b.beats.f_measure) / 2)
    assert m.downbeat_f_measure == 1.0
    table = format_table(scores)
    assert "a_steady" in table and "mean" in table.splitlines()[-1]


def test_summarize_empty() -> None:
    m = summarize([])
    assert m.n_pieces == 0 and m.f_measure == 0.0 and m.downbeat_f_measure is None


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder") as err:
        score_folder(tmp_path / "nope", analyze=lambda p: ([], []))
    assert "nope" in str(err.value)


def test_folder_without_wav(tmp_path: Path) -> None:
    (tmp_path / "x.beats.txt").write_text("1.0\n")
    with pytest.raises(InputError, match=r"no \.wav files"):
        score_folder(tmp_path, analyze=lambda p: ([], []))


def test_wav_without_beats_names_the_expected_file(tmp_path: Path) -> None:
    write_click_song(tmp_path, "good")
    sf.write(tmp_path / "lonely.wav", np.zeros(SR, dtype=np.float32), SR)
    expected = r"lonely\.wav: no beat annotation; expected lonely\.beats\.txt"
    with pytest.raises(InputError, match=expected):
        score_folder(tmp_path, analyze=lambda p: ([], []))


def test_malformed_annotation_fails_before_any_analysis(tmp_path: Path) -> None:
    write_click_song(tmp_path, "a")
    write_click_song(tmp_path, "b")
    (tmp_path / "b.downbeats.txt").write_text("0.0\nnot-a-time\n")
    calls: list[Path] = []

    def stub(path: Path) -> tuple[list[float], list[float]]:
        calls.append(path)
        return [], []

    with pytest.raises(InputError, match=r"b\.downbeats\.txt:2"):
        score_folder(tmp_path, analyze=stub)
    assert calls == []


def test_unusable_analyser_result_names_the_song(tmp_path: Path) -> None:
    write_click_song(tmp_path, "a")
    with pytest.raises(DougaError, match=r"a\.wav: the analyser returned an unusable result"):
        score_folder(tmp_path, analyze=lambda p: ([3.0, 2.0, 1.0], []))
    with pytest.raises(DougaError, match=r"a\.wav"):
        score_folder(tmp_path, analyze=lambda p: [1.0, 2.0, 3.0])  # type: ignore[arg-type,return-value]


def test_piece_score_is_frozen() -> None:
    s = PieceScore("x", Path("x.wav"), BeatScores(1, 1, 1), None, 0.0)
    with pytest.raises(AttributeError):
        s.name = "y"  # type: ignore[misc]
