"""Beat-tracking scores: how well estimated beats and downbeats match annotated ones.

The measures are those of the beat-tracking literature, computed with
``mir_eval.beat`` and used the same way everywhere in douga (DESIGN.md, "Metrics"):

* F-measure: an estimate within ±70 ms of a reference beat is a hit;
* CMLt: share of beats tracked at the correct metrical level and phase;
* AMLt: the same, but also accepting double/half tempo and the off-beat.

Beats in the first 5 s (of both the reference and the estimate) are ignored:
trackers and listeners both need a few seconds to find the pulse.

A scored folder holds ``NAME.wav`` + ``NAME.beats.txt`` (+ optional
``NAME.downbeats.txt``); each text file has one time in seconds per line. This is
the layout ``benchmarks/beat_eval_set.py`` writes and ``douga eval beats DIR`` reads.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from douga.errors import DougaError, InputError

#: Times in seconds, as a list or a 1-D array.
Times = Sequence[float] | np.ndarray
#: An analyser: audio file -> (beat times, downbeat times).
Analyzer = Callable[[Path], tuple[Times, Times]]
#: Progress callback: (pieces scored so far, total pieces, name of the piece just scored).
ProgressFn = Callable[[int, int, str], None]

SKIP_SECONDS = 5.0
WINDOW_SECONDS = 0.07


@dataclass(frozen=True)
class BeatScores:
    """Scores of one beat (or downbeat) sequence against its reference, each in 0..1."""

    f_measure: float
    cmlt: float
    amlt: float


@dataclass(frozen=True)
class PieceScore:
    """Scores of one annotated song."""

    name: str
    audio: Path
    beats: BeatScores
    downbeats: BeatScores | None  # None when the folder has no NAME.downbeats.txt
    seconds: float  # wall time the analyser took on this song


@dataclass(frozen=True)
class ScoreSummary:
    """Means over a folder; downbeat means only over songs with downbeat annotations."""

    n_pieces: int
    f_measure: float
    cmlt: float
    amlt: float
    n_downbeat_pieces: int
    downbeat_f_measure: float | None
    downbeat_cmlt: float | None
    downbeat_amlt: float | None
    seconds: float  # total analyser wall time


# --------------------------------------------------------------------------- one piece


def score_beats(
    reference: Times,
    estimated: Times,
    *,
    skip: float = SKIP_SECONDS,
    window: float = WINDOW_SECONDS,
) -> BeatScores:
    """Score estimated beat times against reference beat times.

    Parameters
    ----------
    reference, estimated : sequence of float
        Beat times in seconds, increasing. Either may be empty (a silent song):
        the scores are then 0, as in ``mir_eval``.
    skip : float
        Beats before this time (seconds) are dropped from both sequences.
    window : float
        Half-width of the F-measure hit window, in seconds.

    Returns
    -------
    BeatScores
        F-measure, CMLt and AMLt, each in 0..1.

    Raises
    ------
    InputError
        If a sequence is not a 1-D list of finite, increasing times, or
        ``skip``/``window`` are out of range.
    """
    import mir_eval.beat  # heavy-ish import kept off douga's import path

    if not (skip >= 0 and math.isfinite(skip)):
        raise InputError(f"skip: got {skip!r}; expected a time >= 0 in seconds")
    if not (window > 0 and math.isfinite(window)):
        raise InputError(f"window: got {window!r}; expected a positive time in seconds")
    ref = mir_eval.beat.trim_beats(_as_times(reference, "reference beats"), min_beat_time=skip)
    est = mir_eval.beat.trim_beats(_as_times(estimated, "estimated beats"), min_beat_time=skip)
    with warnings.catch_warnings():
        # mir_eval warns on empty or single-beat input and returns 0: that is the score we want
        warnings.simplefilter("ignore", UserWarning)
        f = mir_eval.beat.f_measure(ref, est, f_measure_threshold=window)
        _, cmlt, _, amlt = mir_eval.beat.continuity(ref, est)
    return BeatScores(f_measure=float(f), cmlt=float(cmlt), amlt=float(amlt))


def _as_times(times: Times, what: str) -> np.ndarray:
    try:
        arr = np.asarray(times, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what}: got {type(times).__name__}; expected times in seconds") from None
    if arr.ndim != 1:
        raise InputError(f"{what}: got an array of shape {arr.shape}; expected a 1-D list of times")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        bad = arr[~np.isfinite(arr) | (arr < 0)][0]
        raise InputError(f"{what}: got time {bad!r}; expected finite times >= 0 in seconds")
    if np.any(np.diff(arr) <= 0):
        i = int(np.flatnonzero(np.diff(arr) <= 0)[0])
        raise InputError(
            f"{what}: time {arr[i + 1]!r} follows {arr[i]!r}; expected strictly increasing times"
        )
    return arr


# --------------------------------------------------------------------------- files


def read_times(path: str | Path) -> np.ndarray:
    """Read an annotation file: one time in seconds per line.

    Blank lines and lines starting with ``#`` are skipped; further columns on a
    line (such as the beat-in-bar number of some datasets) are ignored.

    Raises
    ------
    InputError
        Naming the file (and line) when it is missing, unreadable, empty,
        holds something other than a time, or its times do not increase.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; expected one time in seconds per line") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e}); expected a text file of times") from None
    times: list[float] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.replace(",", " ").split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            t = float(fields[0])
        except ValueError:
            raise InputError(
                f"{path}:{lineno}: got {fields[0]!r}; expected a time in seconds"
            ) from None
        if not math.isfinite(t) or t < 0:
            raise InputError(f"{path}:{lineno}: got {fields[0]!r}; expected a time >= 0 in seconds")
        if times and t <= times[-1]:
            raise InputError(
                f"{path}:{lineno}: time {t} follows {times[-1]}; expected strictly increasing times"
            )
        times.append(t)
    if not times:
        raise InputError(f"{path}: no times found; expected one time in seconds per line")
    return np.array(times)


@dataclass(frozen=True)
class _Piece:
    name: str
    audio: Path
    beats: np.ndarray
    downbeats: np.ndarray | None


def _collect(directory: Path) -> list[_Piece]:
    """Read every annotation up front, so a typo fails before minutes of analysis."""
    if not directory.is_dir():
        raise InputError(
            f"{directory}: no such folder; expected a folder of NAME.wav + NAME.beats.txt"
        )
    wavs = sorted(p for p in directory.iterdir() if p.suffix.lower() == ".wav" and p.is_file())
    if not wavs:
        raise InputError(
            f"{directory}: no .wav files; expected NAME.wav + NAME.beats.txt "
            "(+ optional NAME.downbeats.txt)"
        )
    pieces = []
    for wav in wavs:
        beats_file = wav.with_name(wav.stem + ".beats.txt")
        if not beats_file.is_file():
            raise InputError(f"{wav}: no beat annotation; expected {beats_file.name} beside it")
        down_file = wav.with_name(wav.stem + ".downbeats.txt")
        downbeats = read_times(down_file) if down_file.is_file() else None
        pieces.append(_Piece(wav.stem, wav, read_times(beats_file), downbeats))
    return pieces


# --------------------------------------------------------------------------- folders


def douga_analyzer(path: Path) -> tuple[list[float], list[float]]:
    """douga's own analyser as an :data:`Analyzer`: ``analyze_music(path)`` beats and downbeats."""
    from douga.music.analyze import analyze_music  # imported on use: the analysis stack is heavy

    music = analyze_music(path)
    return list(music.beats), list(music.downbeats)


def score_folder(
    directory: str | Path,
    *,
    analyze: Analyzer | None = None,
    progress: ProgressFn | None = None,
) -> list[PieceScore]:
    """Run an analyser on every ``NAME.wav`` of a folder and score it against the annotations.

    Parameters
    ----------
    directory : str or Path
        Folder of ``NAME.wav`` + ``NAME.beats.txt`` (+ optional ``NAME.downbeats.txt``).
    analyze : callable, optional
        ``path -> (beat_times, downbeat_times)`` in seconds; by default douga's
        :func:`douga.music.analyze.analyze_music`.
    progress : callable, optional
        Called as ``progress(done, total, name)`` after each song is scored.

    Returns
    -------
    list of PieceScore
        One per song, sorted by file name.

    Raises
    ------
    InputError
        If the folder is missing or has no ``.wav``, a ``.wav`` has no
        ``.beats.txt``, or an annotation file is malformed (the message names it).
    DougaError
        If the analyser returns something that is not two lists of increasing times.
    """
    pieces = _collect(Path(directory))
    run = analyze or douga_analyzer
    out: list[PieceScore] = []
    for i, piece in enumerate(pieces):
        t0 = time.perf_counter()
        result = run(piece.audio)
        seconds = time.perf_counter() - t0
        try:
            est_beats, est_downbeats = result
            beats = score_beats(piece.beats, est_beats)
            downbeats = (
                None if piece.downbeats is None else score_beats(piece.downbeats, est_downbeats)
            )
        except (InputError, TypeError, ValueError) as e:
            raise DougaError(
                f"{piece.audio}: the analyser returned an unusable result ({e}); "
                "expected (beat_times, downbeat_times) in seconds"
            ) from None
        out.append(PieceScore(piece.name, piece.audio, beats, downbeats, seconds))
        if progress is not None:
            progress(i + 1, len(pieces), piece.name)
    return out


def summarize(scores: Iterable[PieceScore]) -> ScoreSummary:
    """Mean scores over pieces (an empty input gives zeros and ``None`` downbeat means)."""
    scores = list(scores)
    beats = [s.beats for s in scores]
    downs = [s.downbeats for s in scores if s.downbeats is not None]

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else 0.0

    def mean_or_none(values: list[float]) -> float | None:
        return float(np.mean(values)) if values else None

    return ScoreSummary(
        n_pieces=len(scores),
        f_measure=mean([b.f_measure for b in beats]),
        cmlt=mean([b.cmlt for b in beats]),
        amlt=mean([b.amlt for b in beats]),
        n_downbeat_pieces=len(downs),
        downbeat_f_measure=mean_or_none([d.f_measure for d in downs]),
        downbeat_cmlt=mean_or_none([d.cmlt for d in downs]),
        downbeat_amlt=mean_or_none([d.amlt for d in downs]),
        seconds=float(sum(s.seconds for s in scores)),
    )


def format_table(scores: Sequence[PieceScore]) -> str:
    """A plain-text table: a row per song (F, CMLt, AMLt, downbeat F, seconds), then the means."""
    width = max([len("mean"), *(len(s.name) for s in scores)])
    head = f"{'piece':<{width}}  {'F':>5}  {'CMLt':>5}  {'AMLt':>5}  {'down F':>6}  {'sec':>5}"
    lines = [head, "-" * len(head)]

    def row(name: str, f: float, c: float, a: float, d: float | None, sec: float) -> str:
        down = f"{d:6.3f}" if d is not None else f"{'-':>6}"
        return f"{name:<{width}}  {f:5.3f}  {c:5.3f}  {a:5.3f}  {down}  {sec:5.1f}"

    for s in scores:
        d = s.downbeats.f_measure if s.downbeats is not None else None
        lines.append(row(s.name, s.beats.f_measure, s.beats.cmlt, s.beats.amlt, d, s.seconds))
    m = summarize(scores)
    lines.append("-" * len(head))
    mean_sec = m.seconds / m.n_pieces if m.n_pieces else 0.0
    lines.append(row("mean", m.f_measure, m.cmlt, m.amlt, m.downbeat_f_measure, mean_sec))
    return "\n".join(lines)
