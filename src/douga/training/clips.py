"""Clip data sets on disk: short uint8 video clips with a caption, in shards, split by scene.

Every data set the learned models train on (clips cut from videos, moving digits,
captioned cel animation) is stored the same way::

    DIR/dataset.json          format, frame size, fps, source, and per split its shards
    DIR/train/00000.npz       frames (F, H, W, 3) uint8 -- the clips of the shard, end to end
                              starts (n + 1,) int64     -- clip i is frames[starts[i]:starts[i+1]]
                              scenes (n,) int64         -- the scene each clip was cut from
                              texts  (n,) unicode       -- each clip's caption ("" for none)
    DIR/val/..., DIR/test/...

Splits are by scene, so clips of one shot never land in both train and test.
A :class:`ClipWriter` builds the folder beside the target and renames it at the end,
so an interrupted build leaves nothing half-written at ``DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from douga.errors import InputError

FORMAT = "douga-clips"
VERSION = 1
SPLITS = ("train", "val", "test")
SHARD_FRAMES = 2048  # frames per shard (50 MB of pixels at 64x128 before compression)


def split_of_scene(scene_key: str, *, val: float = 0.1, test: float = 0.1) -> str:
    """Which split a scene belongs to: a stable hash of its key, so reruns agree.

    Parameters
    ----------
    scene_key
        Anything that names the scene uniquely, e.g. ``"video.mp4#12"``.
    val, test
        Fractions of scenes for validation and test.
    """
    if not (val >= 0 and test >= 0 and val + test < 1):
        raise InputError(f"split fractions val={val}, test={test}: expected >= 0 and a sum < 1")
    digest = hashlib.sha1(scene_key.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    if u < test:
        return "test"
    if u < test + val:
        return "val"
    return "train"


@dataclass
class _Pending:
    frames: list[np.ndarray] = field(default_factory=list)
    scenes: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    n_frames: int = 0
    shards: list[str] = field(default_factory=list)
    clips: int = 0
    total_frames: int = 0


class ClipWriter:
    """Write a clip data set to ``out_dir`` (a new folder), atomically.

    Use as a context manager; clips go in with :meth:`add`. On success the folder
    appears at ``out_dir`` with ``dataset.json``; on an exception nothing is left.

    Parameters
    ----------
    out_dir
        The folder to create. It must not exist, unless ``overwrite``.
    height, width
        Frame size of every clip.
    fps
        Frame rate the clips were sampled at (information for users and samplers).
    info
        Anything else to record in ``dataset.json`` (source, settings).
    """

    def __init__(
        self,
        out_dir: str | Path,
        *,
        height: int,
        width: int,
        fps: float,
        info: dict[str, Any] | None = None,
        overwrite: bool = False,
        shard_frames: int = SHARD_FRAMES,
    ) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not overwrite:
            raise InputError(
                f"{self.out_dir}: already exists; expected a new folder (or --overwrite)"
            )
        if height < 8 or width < 8:
            raise InputError(f"clip size {width}x{height}: expected at least 8x8 pixels")
        self.height, self.width, self.fps = int(height), int(width), float(fps)
        self.info = dict(info or {})
        self.shard_frames = int(shard_frames)
        parent = self.out_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.", dir=parent))
        self._pending = {s: _Pending() for s in SPLITS}
        self._closed = False

    def add(self, split: str, frames: np.ndarray, *, text: str = "", scene: int = 0) -> None:
        """Add one clip: ``frames`` (T, H, W, 3) uint8, T >= 2."""
        if split not in SPLITS:
            raise ValueError(f"split {split!r}: expected one of {SPLITS}")
        frames = np.asarray(frames)
        expected = (self.height, self.width, 3)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[1:] != expected:
            raise ValueError(
                f"clip of dtype {frames.dtype} and shape {frames.shape}: expected uint8 "
                f"(T, {self.height}, {self.width}, 3)"
            )
        if frames.shape[0] < 2:
            raise ValueError("a clip needs at least 2 frames")
        p = self._pending[split]
        p.frames.append(frames)
        p.scenes.append(int(scene))
        p.texts.append(str(text))
        p.n_frames += frames.shape[0]
        if p.n_frames >= self.shard_frames:
            self._flush(split)

    def _flush(self, split: str) -> None:
        p = self._pending[split]
        if not p.frames:
            return
        folder = self._tmp / split
        folder.mkdir(exist_ok=True)
        name = f"{split}/{len(p.shards):05d}.npz"
        lengths = [f.shape[0] for f in p.frames]
        np.savez_compressed(
            self._tmp / name,
            frames=np.concatenate(p.frames),
            starts=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            scenes=np.asarray(p.scenes, dtype=np.int64),
            texts=np.asarray(p.texts, dtype=str) if p.texts else np.zeros(0, dtype="<U1"),
        )
        p.shards.append(name)
        p.clips += len(lengths)
        p.total_frames += p.n_frames
        p.frames, p.scenes, p.texts, p.n_frames = [], [], [], 0

    def counts(self) -> dict[str, int]:
        """Clips added so far, per split."""
        return {s: p.clips + len(p.frames) for s, p in self._pending.items()}

    def close(self) -> Path:
        """Write the last shards and ``dataset.json``, then move the folder into place."""
        if self._closed:
            return self.out_dir
        for split in SPLITS:
            self._flush(split)
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "height": self.height,
            "width": self.width,
            "fps": self.fps,
            "info": self.info,
            "splits": {
                s: {"clips": p.clips, "frames": p.total_frames, "shards": p.shards}
                for s, p in self._pending.items()
            },
        }
        (self._tmp / "dataset.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        if self.out_dir.exists():
            shutil.rmtree(self.out_dir)
        os.replace(self._tmp, self.out_dir)
        self._closed = True
        return self.out_dir

    def abort(self) -> None:
        """Remove everything written so far."""
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._closed = True

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True)
class Clip:
    """One clip: frames (T, H, W, 3) uint8, its caption and the scene it came from."""

    frames: np.ndarray
    text: str
    scene: int


def read_meta(directory: str | Path) -> dict[str, Any]:
    """The ``dataset.json`` of a clip data set, checked."""
    d = Path(directory)
    path = d / "dataset.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{d}: no dataset.json; expected a clip data set made by `douga dataset ...`"
        ) from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read ({e}); expected a clip data set index") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(f"{path}: not a douga clip data set (format {FORMAT!r} expected)")
    if meta.get("version") != VERSION:
        raise InputError(f"{path}: version {meta.get('version')!r}; expected {VERSION}")
    return meta


class ClipDataset:
    """Random access to the clips of one split of a clip data set.

    Shards are loaded on first use and kept (a data set of 64x128 clips is small).
    """

    def __init__(self, directory: str | Path, split: str = "train") -> None:
        self.directory = Path(directory)
        self.meta = read_meta(self.directory)
        if split not in SPLITS:
            raise InputError(f"split {split!r}: expected one of {', '.join(SPLITS)}")
        self.split = split
        index = self.directory / "dataset.json"
        try:
            self.height = int(self.meta["height"])
            self.width = int(self.meta["width"])
            self.fps = float(self.meta["fps"])
            shards = [str(n) for n in self.meta["splits"].get(split, {}).get("shards", [])]
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(f"{index}: malformed ({type(e).__name__}: {e}); expected height, "
                             "width, fps and splits as `douga dataset` writes them") from None
        if self.height < 1 or self.width < 1:
            raise InputError(f"{index}: frames of {self.width}x{self.height}; expected a size")
        for name in shards:
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise InputError(f"{index}: shard {name!r}; expected a file inside the data set")
        self._shards: list[dict[str, np.ndarray] | None] = [None] * len(shards)
        self._names: list[str] = list(shards)
        self._index: list[tuple[int, int]] = []
        for k in range(len(shards)):
            starts = self._shard(k)["starts"]
            self._index.extend((k, i) for i in range(starts.size - 1))

    def _shard(self, k: int) -> dict[str, np.ndarray]:
        shard = self._shards[k]
        if shard is None:
            path = self.directory / self._names[k]
            try:
                with np.load(path, allow_pickle=False) as z:
                    shard = {key: z[key] for key in ("frames", "starts", "scenes", "texts")}
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
                raise InputError(f"{path}: cannot read this shard ({e})") from None
            self._check(shard, path)
            self._shards[k] = shard
        return shard

    def _check(self, shard: dict[str, np.ndarray], path: Path) -> None:
        """The shard's arrays agree with each other and with dataset.json."""
        frames, starts = shard["frames"], shard["starts"]
        n = starts.size - 1
        if not (frames.dtype == np.uint8 and frames.shape[1:] == (self.height, self.width, 3)):
            raise InputError(f"{path}: frames {frames.dtype} {frames.shape}; expected uint8 "
                             f"(N, {self.height}, {self.width}, 3) as dataset.json says")
        if not (starts.ndim == 1 and n >= 0 and starts.dtype.kind in "iu" and starts[0] == 0
                and starts[-1] == frames.shape[0] and (np.diff(starts) >= 0).all()):
            raise InputError(f"{path}: starts do not cut the {frames.shape[0]} frames into "
                             "clips; expected 0, increasing, ending at the frame count")
        if shard["scenes"].shape != (n,) or shard["texts"].shape != (n,):
            raise InputError(f"{path}: {n} clips but {shard['scenes'].size} scenes and "
                             f"{shard['texts'].size} texts; expected one of each per clip")

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, i: int) -> Clip:
        k, j = self._index[i]
        s = self._shard(k)
        a, b = int(s["starts"][j]), int(s["starts"][j + 1])
        return Clip(frames=s["frames"][a:b], text=str(s["texts"][j]), scene=int(s["scenes"][j]))

    def __iter__(self) -> Iterator[Clip]:
        for i in range(len(self)):
            yield self[i]
