"""Video in-betweening scores on held-out clips, as GANime evaluates: first and last frame in.

A clip data set (:mod:`douga.training.clips`) holds short clips of real animation.
For every clip of a split, each generator is given the clip's first and last frame,
``ts = k / (T − 1)`` for ``k = 1 … T − 2`` and a
:class:`~douga.generators.base.PairContext` with the clip's caption as both texts,
and its T − 2 frames are compared with the real ones (DESIGN.md, "Metrics"):

* PSNR (dB) and SSIM per frame, on uint8 RGB with a data range of 255, by
  :func:`douga.metrics.inbetween.psnr` and :func:`~douga.metrics.inbetween.ssim`
  (identical frames score :data:`~douga.metrics.inbetween.PSNR_MAX`, 100 dB);
* frame accuracy: the share of frames with SSIM ≥ 0.9;
* FID, when the FID InceptionV3 weights are given: generated in-between frames
  against the real in-between frames of the same clips;
* FVD, when the I3D weights are given: the generated clips (first frame, the T − 2
  generated frames, last frame) against the real clips.

A *run* scores every clip once with one seed (run r uses seed r); each measure is
reported as the mean and the (population) standard deviation over the runs, so a
generator without randomness has a standard deviation of 0. Crossfade, the
baseline, is always scored first. ``douga eval video DIR`` prints the report.
"""

from __future__ import annotations

import logging
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
from douga.metrics.frechet import FeatureExtractor, fit_gaussian, frechet_distance
from douga.metrics.inbetween import ACCURACY_SSIM, BASELINE, PSNR_MAX, psnr, ssim
from douga.training.clips import SPLITS, Clip, ClipDataset

__all__ = [
    "DEFAULT_GENERATORS",
    "MEASURES",
    "MeanStd",
    "RunScore",
    "VideoReport",
    "VideoScore",
    "score_video",
]

log = logging.getLogger(__name__)

#: Generators scored beside the baseline when none are named (plus, when a
#: checkpoint is given, every registered generator that takes one).
DEFAULT_GENERATORS = ("flow",)
#: The measures of a run, in report order; ``fid`` and ``fvd`` only with their networks.
MEASURES = ("psnr", "ssim", "accuracy", "fid", "fvd")

#: Progress callback: (clips done, total clips over all runs, what was just done).
ProgressFn = Callable[[int, int, str], None]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MeanStd:
    """Mean and population standard deviation of a measure over the runs."""

    mean: float
    std: float

    @classmethod
    def of(cls, values: Sequence[float]) -> MeanStd:
        """Summary of one value per run (at least one)."""
        v = np.asarray(values, dtype=np.float64)
        return cls(float(v.mean()), float(v.std()))

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class RunScore:
    """One generator over every clip with one seed: means over all generated frames."""

    seed: int
    n_frames: int  # generated (in-between) frames scored
    psnr: float  # mean dB
    ssim: float  # mean
    accuracy: float  # share of frames with SSIM >= ACCURACY_SSIM, 0..1
    seconds: float  # generation wall time, scoring excluded
    fid: float | None = None  # generated vs real in-between frames
    fvd: float | None = None  # generated vs real clips

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "n_frames": self.n_frames, "psnr": self.psnr,
                "ssim": self.ssim, "accuracy": self.accuracy, "fid": self.fid, "fvd": self.fvd,
                "seconds": self.seconds}


@dataclass(frozen=True)
class VideoScore:
    """One generator over all runs: each measure's mean ± std, and the runs behind them."""

    generator: str
    runs: tuple[RunScore, ...]

    def summary(self, measure: str) -> MeanStd | None:
        """Mean ± std over the runs of one of :data:`MEASURES`; None when not measured."""
        if measure not in MEASURES:
            raise KeyError(measure)
        values = [getattr(r, measure) for r in self.runs]
        if not values or any(v is None for v in values):
            return None
        return MeanStd.of(values)

    @property
    def psnr(self) -> MeanStd | None:
        return self.summary("psnr")

    @property
    def ssim(self) -> MeanStd | None:
        return self.summary("ssim")

    @property
    def accuracy(self) -> MeanStd | None:
        return self.summary("accuracy")

    @property
    def fid(self) -> MeanStd | None:
        return self.summary("fid")

    @property
    def fvd(self) -> MeanStd | None:
        return self.summary("fvd")

    @property
    def ms_per_frame(self) -> float:
        """Mean generation time per in-between frame, in milliseconds."""
        frames = sum(r.n_frames for r in self.runs)
        return 1000.0 * sum(r.seconds for r in self.runs) / frames if frames else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"generator": self.generator}
        for m in MEASURES:
            s = self.summary(m)
            out[m] = None if s is None else s.to_dict()
        out["ms_per_frame"] = self.ms_per_frame
        out["runs"] = [r.to_dict() for r in self.runs]
        return out


@dataclass(frozen=True)
class VideoReport:
    """Every generator on the clips of one split of a clip data set."""

    directory: Path
    split: str
    n_clips: int  # clips scored
    n_frames: int  # in-between frames per run and generator
    clip_lengths: tuple[int, int]  # shortest and longest clip scored, in frames
    seeds: tuple[int, ...]  # one per run
    scores: tuple[VideoScore, ...]  # baseline first
    fid_weights: Path | None = None
    fvd_weights: Path | None = None
    skipped_clips: int = 0  # clips of under 3 frames: nothing to in-between
    skipped_generators: dict[str, str] = field(default_factory=dict)  # name -> why
    seconds: float = 0.0

    @property
    def generators(self) -> tuple[str, ...]:
        return tuple(s.generator for s in self.scores)

    def score(self, generator: str) -> VideoScore:
        """The scores of one generator (KeyError when it was not scored)."""
        for s in self.scores:
            if s.generator == generator:
                return s
        raise KeyError(generator)

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "split": self.split,
            "clips": self.n_clips,
            "frames_per_run": self.n_frames,
            "clip_lengths": list(self.clip_lengths),
            "runs": len(self.seeds),
            "seeds": list(self.seeds),
            "baseline": BASELINE,
            "accuracy_ssim": ACCURACY_SSIM,
            "psnr_max": PSNR_MAX,
            "std": "population standard deviation over the runs",
            "fid": None if self.fid_weights is None else {
                "weights": str(self.fid_weights), "real_frames": self.n_frames,
                "generated_frames": self.n_frames},
            "fvd": None if self.fvd_weights is None else {
                "weights": str(self.fvd_weights), "real_clips": self.n_clips,
                "generated_clips": self.n_clips},
            "generators": [s.to_dict() for s in self.scores],
            "skipped_clips": self.skipped_clips,
            "skipped_generators": dict(self.skipped_generators),
            "seconds": self.seconds,
        }


# --------------------------------------------------------------------------- setup


def _generator_names(generators: Sequence[str] | None,
                     checkpoint: str | Path | None) -> tuple[list[str], dict[str, str]]:
    """Names to run, baseline first, and those left out (why); checks the names."""
    skipped: dict[str, str] = {}
    if generators is not None:
        asked = [n.strip() for n in generators if n.strip()]
    else:
        asked = list(DEFAULT_GENERATORS)
        if checkpoint is not None:  # also every registered generator that takes a checkpoint
            for n in available_generators():
                if n in asked or n == BASELINE:
                    continue
                try:
                    if generator_takes(n, "checkpoint"):
                        asked.append(n)
                except MissingDependency as e:
                    skipped[n] = str(e)
    names = [BASELINE]
    for n in asked:
        if n not in names:
            names.append(n)
    for n in names:
        generator_takes(n, "checkpoint")  # InputError for an unknown name, before any work
    return names, skipped


def _load_generators(names: list[str], options: Mapping[str, Any]) -> dict[str, Generator]:
    """One generator object per name, each given the ``options`` it takes."""
    taken = options_for(names, options)
    return {n: get_generator(n, **taken[n]) for n in names}


def _open_clips(directory: Path, split: str,
                max_clips: int | None) -> tuple[ClipDataset, list[int], int]:
    """The data set, the indices of the clips to score (3+ frames) and how many were skipped."""
    if split not in SPLITS:
        raise InputError(f"split {split!r}: expected one of {', '.join(SPLITS)}")
    if not directory.is_dir():
        raise InputError(f"{directory}: no such folder; expected a clip data set made by "
                         "`douga dataset ...` (dataset.json and shards)")
    data = ClipDataset(directory, split)
    if max_clips is not None and max_clips < 1:
        raise InputError(f"max_clips {max_clips}: expected at least 1")
    wanted = range(len(data) if max_clips is None else min(len(data), max_clips))
    indices = [i for i in wanted if data[i].frames.shape[0] >= 3]
    if not indices:
        counts = ", ".join(f"{s} {data.meta['splits'].get(s, {}).get('clips', 0)}"
                           for s in SPLITS)
        raise InputError(
            f"{directory}: the {split} split has no clip of 3 or more frames to in-between "
            f"(clips per split: {counts}); expected a split with clips of at least 3 frames"
        )
    return data, indices, len(wanted) - len(indices)


# --------------------------------------------------------------------------- scoring


def _generate(gen: Generator, name: str, clip: Clip, ts: list[float],
              context: PairContext) -> Iterator[np.ndarray]:
    """The generator's frames for the clip's in-betweens, checked to be uint8 and of its size."""
    first, last = clip.frames[0], clip.frames[-1]
    count = 0
    for img in gen.inbetween(first, last, ts, context=context):
        count += 1
        if count > len(ts):
            break
        frame = np.asarray(img)
        # compare uint8 with uint8: a float frame in [0, 1] or [0, 255] is a generator bug
        if frame.dtype != np.uint8 or frame.shape != first.shape:
            raise DougaError(
                f"generator {name!r} returned a {frame.dtype} frame of shape {frame.shape}; "
                f"expected uint8 {first.shape} like the clip's frames"
            )
        yield frame
    if count != len(ts):
        raise DougaError(f"generator {name!r} yielded {count} frames for {len(ts)} positions")


@dataclass
class _RunTally:
    """What one generator's run collects, clip by clip."""

    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    seconds: float = 0.0
    frame_features: list[np.ndarray] = field(default_factory=list)
    clip_features: list[np.ndarray] = field(default_factory=list)


def _run(gens: dict[str, Generator], clips: list[Clip], *, seed: int,
         frame_features: FeatureExtractor | None, clip_features: FeatureExtractor | None,
         tick: Callable[[str], None]) -> dict[str, _RunTally]:
    """One run: every generator on every clip with ``seed``; per-frame scores and features."""
    tally = {n: _RunTally() for n in gens}
    for clip in clips:
        t = clip.frames.shape[0]
        ts = [k / (t - 1) for k in range(1, t - 1)]
        truth = clip.frames[1:-1]
        context = PairContext(text_a=clip.text, text_b=clip.text, seed=seed)
        for name, gen in gens.items():
            t0 = time.perf_counter()
            made = list(_generate(gen, name, clip, ts, context))
            tally[name].seconds += time.perf_counter() - t0
            for ref, img in zip(truth, made, strict=True):
                tally[name].psnr.append(psnr(ref, img))
                tally[name].ssim.append(ssim(ref, img))
            if frame_features is not None:
                tally[name].frame_features.append(frame_features(made))
            if clip_features is not None:
                video = np.stack([clip.frames[0], *made, clip.frames[-1]])  # (T, H, W, 3)
                tally[name].clip_features.append(clip_features([video]))
        tick(f"run {seed + 1}")
    return tally


def _distance(real: Any, features: list[np.ndarray], previous: tuple[np.ndarray, float] | None,
              ) -> tuple[np.ndarray, float]:
    """Fréchet distance of the run's features to the real ones; reuses the last run's
    value when the features are the same (a generator without randomness)."""
    x = np.concatenate(features)
    if previous is not None and previous[0].shape == x.shape and np.array_equal(previous[0], x):
        return x, previous[1]
    return x, frechet_distance(fit_gaussian(x), real)


def _warn_few(measure: str, n: int, dim: int) -> None:
    if n <= dim:
        log.warning("%s from %d samples of %d-d features: the covariance is singular, so the "
                    "value is biased upwards; compare it only with numbers from as many samples",
                    measure, n, dim)


def score_video(
    directory: str | Path,
    *,
    split: str = "test",
    generators: Sequence[str] | None = None,
    checkpoint: str | Path | None = None,
    sampling: Mapping[str, Any] | None = None,
    runs: int = 5,
    max_clips: int | None = None,
    frame_features: FeatureExtractor | None = None,
    clip_features: FeatureExtractor | None = None,
    progress: ProgressFn | None = None,
) -> VideoReport:
    """Score in-betweening generators on the held-out clips of a clip data set.

    Parameters
    ----------
    directory
        A clip data set folder (``dataset.json`` and shards, see
        :mod:`douga.training.clips`).
    split
        Which split to score: ``"test"``, ``"val"`` or ``"train"``.
    generators
        Registered generator names; crossfade (the baseline) is always added, first.
        By default :data:`DEFAULT_GENERATORS`, plus, when ``checkpoint`` is given,
        every registered generator that takes a checkpoint.
    checkpoint
        Passed as ``get_generator(name, checkpoint=...)`` to the generators whose
        constructor takes a ``checkpoint`` (the learned generator), to no other.
    sampling
        ``temperature`` and ``top_k`` (values None are left out), likewise passed to the
        generators that take them.
    runs
        How many runs; run r passes seed r to the generators.
    max_clips
        Score only the first this many clips of the split (FID and FVD then compare
        with the real frames and clips of those same clips).
    frame_features
        Frame features for FID (:class:`douga.metrics.frechet.FrameFeatures`);
        None for no FID.
    clip_features
        Clip features for FVD (:class:`douga.metrics.frechet.ClipFeatures`);
        None for no FVD.
    progress
        Called as ``progress(done, total, label)`` after each clip of each run.

    Returns
    -------
    VideoReport
        Per generator and run: mean PSNR (dB), mean SSIM, frame accuracy, FID and FVD;
        per generator their mean ± std over the runs.

    Raises
    ------
    InputError
        The folder is not a clip data set, the split has no clip of 3+ frames, a
        generator name is unknown, or no named generator takes the checkpoint (or a
        sampling option).
    MissingDependency
        A named generator needs a package that is not installed.
    DougaError
        A generator returned frames that are not uint8 of the clip's size.
    """
    t_start = time.perf_counter()
    if runs < 1:
        raise InputError(f"runs {runs}: expected at least 1")
    directory = Path(directory)
    data, indices, n_skipped = _open_clips(directory, split, max_clips)
    names, skipped_gens = _generator_names(generators, checkpoint)
    gens = _load_generators(names, {"checkpoint": checkpoint, **(sampling or {})})

    clips = [data[i] for i in indices]
    lengths = [c.frames.shape[0] for c in clips]
    n_frames = sum(t - 2 for t in lengths)
    total = runs * len(clips)
    done = 0

    if frame_features is not None and n_frames < 2:
        raise InputError(f"{directory}: FID needs at least 2 in-between frames to fit a "
                         f"Gaussian; the {split} split gives {n_frames}")
    if clip_features is not None and len(clips) < 2:
        raise InputError(f"{directory}: FVD needs at least 2 clips to fit a Gaussian; "
                         f"the {split} split gives {len(clips)}")
    real_frames = real_clips = None
    if (frame_features is not None or clip_features is not None) and progress is not None:
        progress(0, total, "features of the real clips")
    if frame_features is not None:
        x = np.concatenate([frame_features(list(c.frames[1:-1])) for c in clips])
        _warn_few("FID", *x.shape)
        real_frames = fit_gaussian(x)
    if clip_features is not None:
        x = clip_features([c.frames for c in clips])
        _warn_few("FVD", *x.shape)
        real_clips = fit_gaussian(x)

    results: dict[str, list[RunScore]] = {n: [] for n in gens}
    last_fid: dict[str, tuple[np.ndarray, float]] = {}
    last_fvd: dict[str, tuple[np.ndarray, float]] = {}

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, f"{label}/{runs}")

    for seed in range(runs):
        tally = _run(gens, clips, seed=seed, frame_features=frame_features,
                     clip_features=clip_features, tick=tick)
        for name, tl in tally.items():
            fid = fvd = None
            if real_frames is not None:
                x, fid = _distance(real_frames, tl.frame_features, last_fid.get(name))
                last_fid[name] = (x, fid)
            if real_clips is not None:
                x, fvd = _distance(real_clips, tl.clip_features, last_fvd.get(name))
                last_fvd[name] = (x, fvd)
            s = np.asarray(tl.ssim)
            results[name].append(RunScore(
                seed=seed, n_frames=len(tl.psnr), psnr=float(np.mean(tl.psnr)),
                ssim=float(s.mean()), accuracy=float(np.mean(s >= ACCURACY_SSIM)),
                seconds=tl.seconds, fid=fid, fvd=fvd))

    return VideoReport(
        directory=directory, split=split, n_clips=len(clips), n_frames=n_frames,
        clip_lengths=(min(lengths), max(lengths)), seeds=tuple(range(runs)),
        scores=tuple(VideoScore(n, tuple(rs)) for n, rs in results.items()),
        fid_weights=None if frame_features is None else frame_features.weights,
        fvd_weights=None if clip_features is None else clip_features.weights,
        skipped_clips=n_skipped, skipped_generators=skipped_gens,
        seconds=time.perf_counter() - t_start,
    )
