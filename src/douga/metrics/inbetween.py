"""In-betweening scores: generated in-between frames against the true drawn frames.

A scored folder holds one sub-folder per sequence (or is itself one sequence)::

    DIR/NAME/0000.png, 0001.png, …     frames, uint8 RGB, all the same size
    DIR/NAME/keyframes.txt             one keyframe frame index per line

For every consecutive keyframe pair ``(a, b)`` of a sequence, each generator is
given frames ``a`` and ``b`` and ``ts = k / (b − a)`` for ``k = 1 … b − a − 1``;
each frame it returns is compared with true frame ``a + k``. The measures
(DESIGN.md, "Metrics"):

* PSNR in dB on uint8 RGB, ``10·log10(255² / MSE)`` over all pixels and
  channels; identical frames score :data:`PSNR_MAX` (100 dB) rather than
  infinity, so every mean is finite and JSON-able;
* SSIM with the parameters of ``skimage.metrics.structural_similarity(a, b,
  channel_axis=2, data_range=255)`` (7×7 uniform window, sample covariance,
  mean over the three channels); :func:`ssim` computes exactly that with
  OpenCV box filters, ~20× faster (the tests check it against scikit-image);
* frame accuracy: the share of generated frames with SSIM ≥ 0.9.

Means are over frames: per sequence over its in-betweens, and overall over
every in-between of the folder (so frame accuracy is a plain share of frames).
Crossfade, the baseline, is always scored; ``hold`` (keyframe A repeated) is a
lower bound. ``benchmarks/inbetween_eval_set.py`` writes such a folder and
``douga eval inbetween DIR`` prints :func:`format_table` of :func:`score_folder`.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from douga.errors import DougaError, InputError, MissingDependency
from douga.generators.base import (
    Generator,
    PairContext,
    available_generators,
    generator_takes,
    get_generator,
    options_for,
)
from douga.images import check_image, load_image

__all__ = [
    "ACCURACY_SSIM",
    "BASELINE",
    "PSNR_MAX",
    "EvalSequence",
    "FrameScore",
    "GeneratorScore",
    "InbetweenReport",
    "SequenceScore",
    "find_sequences",
    "format_table",
    "psnr",
    "read_sequence",
    "score_folder",
    "score_sequence",
    "ssim",
]

#: Per-frame PSNR of identical frames, in dB (instead of infinity).
PSNR_MAX = 100.0
#: A generated frame counts as accurate when its SSIM is at least this.
ACCURACY_SSIM = 0.9
#: The generator every report includes, and the one differences are taken against.
BASELINE = "crossfade"
KEYFRAMES_FILE = "keyframes.txt"

_FRAME_NAME = re.compile(r"^(\d+)\.(png|jpe?g|webp|bmp|tiff?)$", re.IGNORECASE)
_LAYOUT = f"expected frames 0000.png, 0001.png, … and a {KEYFRAMES_FILE}"

#: Progress callback: (pairs done, total pairs, sequence name of the pair just done).
ProgressFn = Callable[[int, int, str], None]


# --------------------------------------------------------------------------- measures


def _check_frames(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected two H×W×3 frames of one size, got {a.shape} and {b.shape}")


def psnr(reference: np.ndarray, frame: np.ndarray) -> float:
    """Peak signal-to-noise ratio of ``frame`` against ``reference``, in dB.

    Parameters
    ----------
    reference, frame : numpy.ndarray
        uint8 (H, W, 3) RGB images of the same size.

    Returns
    -------
    float
        ``10·log10(255² / MSE)``, MSE over every pixel and channel; at most
        :data:`PSNR_MAX` (identical frames).
    """
    _check_frames(reference, frame)
    diff = reference.astype(np.float64) - frame.astype(np.float64)
    mse = float(np.mean(diff * diff))
    if mse <= 0.0:
        return PSNR_MAX
    return min(PSNR_MAX, 10.0 * math.log10(255.0**2 / mse))


def ssim(reference: np.ndarray, frame: np.ndarray) -> float:
    """Structural similarity, as ``skimage.metrics.structural_similarity`` computes it.

    Same result (to float rounding, ~1e-14) as ``structural_similarity(reference,
    frame, channel_axis=2, data_range=255)``: a 7×7 uniform window, K1 = 0.01,
    K2 = 0.03, sample covariance, the 3-pixel border left out, mean over the
    channels. OpenCV box filters run over bands of rows that stay in the CPU cache,
    which makes it ~10× faster than scikit-image on a 640×360 frame.

    Parameters
    ----------
    reference, frame : numpy.ndarray
        uint8 (H, W, 3) RGB images of the same size, at least 7×7.

    Returns
    -------
    float
        Mean SSIM, at most 1.0 (identical frames).
    """
    _check_frames(reference, frame)
    if min(reference.shape[:2]) < _WIN:
        raise ValueError(f"SSIM needs frames of at least 7×7 pixels, got {reference.shape}")
    h = reference.shape[0]
    rows = h - 2 * _PAD  # rows of the SSIM map; each needs its 3 neighbours above and below
    band = max(8, _BAND_ELEMENTS // (reference.shape[1] * reference.shape[2]))
    total = 0.0
    for r0 in range(0, rows, band):
        r1 = min(rows, r0 + band)
        total += _ssim_map_sum(reference[r0 : r1 + 2 * _PAD], frame[r0 : r1 + 2 * _PAD])
    n = rows * (reference.shape[1] - 2 * _PAD) * reference.shape[2]
    # scikit-image averages each channel, then the channels: the same as one mean
    return total / n


_WIN, _PAD = 7, 3
# rows per band × width × channels: a band's ~8 float64 maps fit in a typical L2 cache
_BAND_ELEMENTS = 32 * 640 * 3


def _ssim_map_sum(reference: np.ndarray, frame: np.ndarray) -> float:
    """Sum of the SSIM map over the interior (border of 3 pixels cut off) of one band."""
    import cv2  # imported on use: scoring only

    def local_mean(img: np.ndarray, *, squared: bool = False) -> np.ndarray:
        box = cv2.sqrBoxFilter if squared else cv2.boxFilter
        out = box(img, cv2.CV_64F, (_WIN, _WIN), normalize=True, borderType=cv2.BORDER_REFLECT)
        return np.asarray(out)[_PAD:-_PAD, _PAD:-_PAD]

    x = reference.astype(np.float64)
    y = frame.astype(np.float64)
    ux, uy = local_mean(x), local_mean(y)
    sxx, syy = local_mean(reference, squared=True), local_mean(frame, squared=True)
    np.multiply(x, y, out=x)
    sxy = local_mean(x)
    cov_norm = _WIN * _WIN / (_WIN * _WIN - 1.0)  # sample covariance, as scikit-image
    c1, c2 = (0.01 * 255.0) ** 2, (0.03 * 255.0) ** 2
    # S = (2·ux·uy + C1)(2·vxy + C2) / ((ux² + uy² + C1)(vx + vy + C2)), computed in
    # place: the time goes into passes over memory, not arithmetic
    uxy = ux * uy
    np.multiply(ux, ux, out=ux)
    np.multiply(uy, uy, out=uy)
    den = sxx
    den += syy
    den -= ux
    den -= uy
    den *= cov_norm
    den += c2
    ux += uy
    ux += c1
    den *= ux
    num = sxy
    num -= uxy
    num *= 2.0 * cov_norm
    num += c2
    uxy *= 2.0
    uxy += c1
    num *= uxy
    num /= den
    return float(num.sum(dtype=np.float64))


# --------------------------------------------------------------------------- folders


@dataclass(frozen=True)
class EvalSequence:
    """One sequence folder, checked: its frame files, keyframes and frame size."""

    name: str
    folder: Path
    frames: tuple[Path, ...]  # frames[i] is frame index i
    keyframes: tuple[int, ...]  # strictly increasing indices into ``frames``
    width: int
    height: int

    def pairs(self) -> list[tuple[int, int]]:
        """Consecutive keyframe pairs ``(a, b)`` with at least one frame between them."""
        return [(a, b) for a, b in itertools.pairwise(self.keyframes) if b - a > 1]

    @property
    def n_inbetweens(self) -> int:
        """How many frames are scored: every frame strictly between two keyframes."""
        return sum(b - a - 1 for a, b in self.pairs())


def _frame_files(folder: Path) -> dict[int, Path]:
    found: dict[int, Path] = {}
    for p in folder.iterdir():
        m = _FRAME_NAME.match(p.name)
        if m is None or not p.is_file():
            continue
        index = int(m.group(1))
        if index in found:
            raise InputError(
                f"{p}: frame {index} is also {found[index].name}; expected one file per frame index"
            )
        found[index] = p
    return found


def _read_keyframes(path: Path, n_frames: int) -> tuple[int, ...]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from Windows editors is fine
    except FileNotFoundError:
        raise InputError(
            f"{path}: not found; expected one keyframe frame index per line beside the frames"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(
            f"{path}: cannot read ({e}); expected a text file of frame indices"
        ) from None
    keys: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.replace(",", " ").split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            k = int(fields[0])
        except ValueError:
            raise InputError(
                f"{path}:{lineno}: got {fields[0]!r}; expected a keyframe frame index (an integer)"
            ) from None
        if not 0 <= k < n_frames:
            raise InputError(
                f"{path}:{lineno}: keyframe {k} is out of range; the folder has frames "
                f"0..{n_frames - 1}"
            )
        if keys and k <= keys[-1]:
            raise InputError(
                f"{path}:{lineno}: keyframe {k} follows {keys[-1]}; expected increasing indices"
            )
        keys.append(k)
    if len(keys) < 2:
        raise InputError(
            f"{path}: {len(keys)} keyframe(s); expected at least two frame indices, one per line"
        )
    return tuple(keys)


def read_sequence(folder: str | Path) -> EvalSequence:
    """Check one sequence folder (frames and ``keyframes.txt``) without decoding the pixels.

    Raises
    ------
    InputError
        Naming the file: the folder or ``keyframes.txt`` is missing, a frame index
        is missing or doubled, a keyframe index is out of range or not increasing,
        a frame is not a readable image, or frames differ in size.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: {_not_a_folder(folder)}; {_LAYOUT}")
    files = _frame_files(folder)
    if not files:
        raise InputError(f"{folder}: no frames found; {_LAYOUT}")
    n = max(files) + 1
    missing = [i for i in range(n) if i not in files]
    if missing:
        raise InputError(
            f"{folder / f'{missing[0]:04d}.png'}: frame {missing[0]} is missing; expected "
            f"frames 0..{n - 1} without gaps"
        )
    keyframes = _read_keyframes(folder / KEYFRAMES_FILE, n)
    frames = tuple(files[i] for i in range(n))
    size = check_image(frames[0])
    for p in frames[1:]:
        other = check_image(p)
        if other != size:
            raise InputError(
                f"{p}: {other[0]}×{other[1]} pixels; expected {size[0]}×{size[1]} like "
                f"{frames[0].name}"
            )
    if min(size) < 7:
        raise InputError(f"{frames[0]}: {size[0]}×{size[1]} pixels; expected at least 7×7 for SSIM")
    return EvalSequence(folder.name, folder, frames, keyframes, size[0], size[1])


def _not_a_folder(path: Path) -> str:
    return "is a file, not a folder" if path.exists() else "no such folder"


def find_sequences(directory: str | Path) -> list[EvalSequence]:
    """Every sequence of a folder, sorted by name, all checked before any scoring.

    ``directory`` is either one sequence (it holds ``keyframes.txt``) or a folder
    of sequence sub-folders; sub-folders with neither frames nor ``keyframes.txt``
    (and hidden ones) are ignored.

    Raises
    ------
    InputError
        When the folder is missing or holds no sequence, or a sequence is malformed
        (see :func:`read_sequence`).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: {_not_a_folder(directory)}; expected a folder of "
                         "sequence sub-folders")
    if (directory / KEYFRAMES_FILE).is_file():
        return [read_sequence(directory)]
    subs = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    candidates = [p for p in subs if (p / KEYFRAMES_FILE).exists() or _frame_files(p)]
    if not candidates:
        raise InputError(
            f"{directory}: no sequences found; expected sub-folders NAME/ holding frames "
            f"0000.png, 0001.png, … and a {KEYFRAMES_FILE}"
        )
    return [read_sequence(p) for p in candidates]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FrameScore:
    """One generated frame: its true frame index, its t, and its scores."""

    frame: int
    t: float
    psnr: float  # dB
    ssim: float

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame, "t": self.t, "psnr": self.psnr, "ssim": self.ssim}


@dataclass(frozen=True)
class GeneratorScore:
    """Means of one generator over a set of frames (a sequence, or the whole folder)."""

    generator: str
    n_frames: int
    psnr: float  # mean dB
    ssim: float  # mean
    accuracy: float  # share of frames with SSIM >= ACCURACY_SSIM, 0..1
    seconds: float  # generation wall time, scoring excluded

    @classmethod
    def from_frames(cls, generator: str, frames: Sequence[FrameScore],
                    seconds: float) -> GeneratorScore:
        """Means of ``frames``; an empty list gives zeros."""
        if not frames:
            return cls(generator, 0, 0.0, 0.0, 0.0, seconds)
        return cls(
            generator=generator,
            n_frames=len(frames),
            psnr=float(np.mean([f.psnr for f in frames])),
            ssim=float(np.mean([f.ssim for f in frames])),
            accuracy=float(np.mean([f.ssim >= ACCURACY_SSIM for f in frames])),
            seconds=seconds,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"generator": self.generator, "n_frames": self.n_frames, "psnr": self.psnr,
                "ssim": self.ssim, "accuracy": self.accuracy, "seconds": self.seconds}


@dataclass(frozen=True)
class SequenceScore:
    """Every generator on one sequence: means, and the per-frame scores behind them."""

    name: str
    folder: Path
    keyframes: tuple[int, ...]
    scores: tuple[GeneratorScore, ...]  # one per generator, in the report's order
    frames: dict[str, tuple[FrameScore, ...]] = field(default_factory=dict)  # by generator

    @property
    def spacings(self) -> tuple[int, ...]:
        """Distinct keyframe spacings N of the sequence, sorted."""
        return tuple(sorted({b - a for a, b in itertools.pairwise(self.keyframes)}))

    def score(self, generator: str) -> GeneratorScore:
        """The means of one generator (KeyError when it was not scored)."""
        for s in self.scores:
            if s.generator == generator:
                return s
        raise KeyError(generator)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "folder": str(self.folder),
            "keyframes": list(self.keyframes),
            "scores": [s.to_dict() for s in self.scores],
            "frames": {g: [f.to_dict() for f in fs] for g, fs in self.frames.items()},
        }


@dataclass(frozen=True)
class InbetweenReport:
    """All sequences of a folder, and each generator's means over all of their frames."""

    folder: Path
    generators: tuple[str, ...]  # the baseline first
    sequences: tuple[SequenceScore, ...]
    overall: tuple[GeneratorScore, ...]  # over every scored frame, one per generator
    skipped: dict[str, str] = field(default_factory=dict)  # generator -> why it was not run
    seconds: float = 0.0  # total wall time, generation and scoring

    def score(self, generator: str) -> GeneratorScore:
        """The overall means of one generator (KeyError when it was not scored)."""
        for s in self.overall:
            if s.generator == generator:
                return s
        raise KeyError(generator)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "generators": list(self.generators),
            "baseline": BASELINE,
            "accuracy_ssim": ACCURACY_SSIM,
            "psnr_max": PSNR_MAX,
            "overall": [s.to_dict() for s in self.overall],
            "sequences": [s.to_dict() for s in self.sequences],
            "skipped": dict(self.skipped),
            "seconds": self.seconds,
        }


# --------------------------------------------------------------------------- scoring


def _generator_names(generators: Sequence[str] | None, *, checkpoint: bool = False,
                     ) -> tuple[list[str], bool]:
    """The names to run, baseline first, and whether they were chosen by the caller."""
    chosen = generators is not None
    # by default every generator that works without model weights (or with the checkpoint)
    names = list(generators) if generators is not None else [
        n for n in available_generators()
        if (checkpoint or not generator_takes(n, "checkpoint"))
        and not generator_takes(n, "guidance")]
    out = [BASELINE]
    for n in names:
        if n not in out:
            out.append(n)
    return out, chosen


def _load(names: list[str], *, chosen: bool, options: Mapping[str, Any],
          ) -> tuple[dict[str, Generator], dict[str, str]]:
    """Instantiate generators, each with the ``options`` it takes (``checkpoint`` to those
    that read one); when all registered ones are asked for, skip missing extras."""
    taken = options_for(names, options)
    gens: dict[str, Generator] = {}
    skipped: dict[str, str] = {}
    for n in names:
        try:
            gens[n] = get_generator(n, **taken[n])
        except MissingDependency as e:
            if chosen:
                raise
            skipped[n] = str(e)
    return gens, skipped


def _run_pair(
    seq: EvalSequence, a: int, b: int, gens: dict[str, Generator], context: PairContext,
    frames: dict[str, list[FrameScore]], seconds: dict[str, float],
) -> None:
    ka, kb = load_image(seq.frames[a]), load_image(seq.frames[b])
    span = b - a
    ts = [k / span for k in range(1, span)]
    truth = [load_image(seq.frames[a + k]) for k in range(1, span)]
    for name, gen in gens.items():
        t0 = time.perf_counter()
        made = list(_take(gen.inbetween(ka, kb, ts, context=context), len(ts), name))
        seconds[name] += time.perf_counter() - t0
        for k, (t, ref, img) in enumerate(zip(ts, truth, made, strict=True), start=1):
            if img.shape != ref.shape or img.dtype != np.uint8:
                raise DougaError(
                    f"generator {name!r} returned a {img.dtype} frame of shape {img.shape} for "
                    f"{seq.frames[a + k]}; expected uint8 {ref.shape}"
                )
            frames[name].append(FrameScore(a + k, t, psnr(ref, img), ssim(ref, img)))


def _take(it: Iterator[np.ndarray], n: int, name: str) -> Iterator[np.ndarray]:
    count = 0
    for img in it:
        count += 1
        if count > n:
            break
        yield np.asarray(img)
    if count != n:
        raise DougaError(f"generator {name!r} yielded {count} frames for {n} positions")


def _score(seq: EvalSequence, gens: dict[str, Generator], context: PairContext,
           tick: Callable[[str], None]) -> SequenceScore:
    frames: dict[str, list[FrameScore]] = {n: [] for n in gens}
    seconds = dict.fromkeys(gens, 0.0)
    for a, b in seq.pairs():
        _run_pair(seq, a, b, gens, context, frames, seconds)
        tick(seq.name)
    scores = tuple(GeneratorScore.from_frames(n, frames[n], seconds[n]) for n in gens)
    return SequenceScore(seq.name, seq.folder, seq.keyframes, scores,
                         {n: tuple(fs) for n, fs in frames.items()})


def score_sequence(
    folder: str | Path,
    *,
    generators: Sequence[str] | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> SequenceScore:
    """Score generators on one sequence folder (frames + ``keyframes.txt``).

    Parameters
    ----------
    folder : str or Path
        The sequence: ``0000.png, 0001.png, …`` and ``keyframes.txt``.
    generators : sequence of str, optional
        Registered generator names; crossfade is always added, first. By default
        every registered generator (those whose optional packages are missing are
        left out).
    seed : int
        Passed to the generators in their :class:`~douga.generators.base.PairContext`.
    progress : callable, optional
        Called as ``progress(pairs_done, total_pairs, name)`` after each keyframe pair.

    Returns
    -------
    SequenceScore
        Per generator: mean PSNR (dB), mean SSIM and frame accuracy, and per-frame scores.

    Raises
    ------
    InputError
        For a malformed folder (the message names the file) or an unknown generator.
    """
    seq = read_sequence(folder)
    names, chosen = _generator_names(generators)
    gens, _ = _load(names, chosen=chosen, options={})
    total = len(seq.pairs())
    done = [0]

    def tick(name: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total, name)

    return _score(seq, gens, PairContext(seed=seed), tick)


def score_folder(
    directory: str | Path,
    *,
    generators: Sequence[str] | None = None,
    checkpoint: str | Path | None = None,
    sampling: Mapping[str, Any] | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> InbetweenReport:
    """Run every generator on every keyframe pair of every sequence of a folder and score it.

    Parameters
    ----------
    directory : str or Path
        A folder of sequence sub-folders (``NAME/0000.png …`` + ``NAME/keyframes.txt``),
        or one sequence folder. Every sequence is checked before anything is generated.
    generators : sequence of str, optional
        Registered generator names; crossfade (the baseline) is always added, first.
        By default every registered generator (:func:`available_generators`); those
        that need a missing optional package are then left out and listed in
        :attr:`InbetweenReport.skipped`. A name given here that cannot run is an error.
    checkpoint : str or Path, optional
        The model folder for the generators that read one (``learned``).
    sampling : mapping, optional
        ``temperature`` and ``top_k`` for the generators that sample (values None are
        left out).
    seed : int
        Passed to the generators in their :class:`~douga.generators.base.PairContext`.
    progress : callable, optional
        Called as ``progress(pairs_done, total_pairs, sequence_name)`` after each pair.

    Returns
    -------
    InbetweenReport
        Per sequence and overall (over all frames): mean PSNR (dB), mean SSIM and
        frame accuracy (share of frames with SSIM ≥ 0.9) of each generator.

    Raises
    ------
    InputError
        The folder is missing or holds no sequence, a sequence is malformed (the
        message names the file), or a generator name is unknown.
    MissingDependency
        A generator named in ``generators`` needs a package that is not installed.
    """
    t_start = time.perf_counter()
    seqs = find_sequences(directory)
    if not any(s.pairs() for s in seqs):
        raise InputError(f"{directory}: no frames between keyframes to score; expected "
                         "keyframes.txt with keyframes at least 2 frames apart")
    names, chosen = _generator_names(generators, checkpoint=checkpoint is not None)
    gens, skipped = _load(names, chosen=chosen,
                          options={"checkpoint": checkpoint, **(sampling or {})})
    total = sum(len(s.pairs()) for s in seqs)
    done = [0]

    def tick(name: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total, name)

    context = PairContext(seed=seed)
    results = tuple(_score(s, gens, context, tick) for s in seqs)
    overall = tuple(
        GeneratorScore.from_frames(
            n,
            [f for r in results for f in r.frames[n]],
            sum(r.score(n).seconds for r in results),
        )
        for n in gens
    )
    return InbetweenReport(Path(directory), tuple(gens), results, overall, skipped,
                           time.perf_counter() - t_start)


# --------------------------------------------------------------------------- table


def _spacing_text(spacings: tuple[int, ...]) -> str:
    if not spacings:
        return "-"
    return str(spacings[0]) if len(spacings) == 1 else f"{spacings[0]}-{spacings[-1]}"


def format_table(report: InbetweenReport) -> str:
    """A plain-text table: a row per sequence, a PSNR / SSIM / accuracy column group per
    generator, then the overall means and each generator's PSNR gain over crossfade."""
    gens = report.generators
    width = max([len("overall"), *(len(s.name) for s in report.sequences)])
    group = 20  # "  PSNR   SSIM  acc%" per generator

    head1 = f"{'':<{width}}  {'':>3}  {'':>4}" + "".join(f"  {g:^{group - 2}}" for g in gens)
    head2 = f"{'sequence':<{width}}  {'N':>3}  {'frms':>4}" + "".join(
        f"  {'PSNR':>6} {'SSIM':>5} {'acc%':>5}" for _ in gens
    )
    rule = "-" * len(head2)
    lines = [head1.rstrip(), head2, rule]

    def cells(scores: Sequence[GeneratorScore]) -> str:
        return "".join(f"  {s.psnr:6.2f} {s.ssim:5.3f} {100 * s.accuracy:5.1f}" for s in scores)

    for seq in report.sequences:
        n = seq.scores[0].n_frames if seq.scores else 0
        lines.append(f"{seq.name:<{width}}  {_spacing_text(seq.spacings):>3}  {n:>4}"
                     + cells(seq.scores))
    lines.append(rule)
    n_all = report.overall[0].n_frames if report.overall else 0
    lines.append(f"{'overall':<{width}}  {'':>3}  {n_all:>4}" + cells(report.overall))
    lines.append("")
    base = report.score(BASELINE) if BASELINE in gens else None
    for s in report.overall:
        gain = "" if base is None or s.generator == BASELINE else (
            f"  PSNR {s.psnr - base.psnr:+.2f} dB vs {BASELINE}")
        per_frame = 1000 * s.seconds / s.n_frames if s.n_frames else 0.0
        lines.append(f"{s.generator:<12} PSNR {s.psnr:6.2f} dB  SSIM {s.ssim:.3f}  "
                     f"accuracy {100 * s.accuracy:5.1f}%  ({per_frame:.1f} ms/frame){gain}")
    for name, why in report.skipped.items():
        lines.append(f"{name:<12} skipped: {why}")
    lines.append(f"{len(report.sequences)} sequences, {n_all} in-between frames, "
                 f"{report.seconds:.1f} s")
    return "\n".join(lines)
