"""Tests for benchmarks/inbetween_eval_set.py: valid sequence folders with real motion."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from douga.metrics.inbetween import find_sequences, psnr, score_folder

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "inbetween_eval_set.py"
W, H = 96, 54


@pytest.fixture(scope="module")
def evalset() -> ModuleType:
    spec = importlib.util.spec_from_file_location("inbetween_eval_set", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["inbetween_eval_set"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_set(evalset: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ib_set")
    assert evalset.main(["--out", str(out), "--size", f"{W}x{H}", "--jobs", "1"]) == 0
    return out


def _load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_set_has_the_required_variety(evalset: ModuleType) -> None:
    specs = evalset.SEQUENCES
    assert 8 <= len(specs) <= 14
    assert {4, 6, 8, 12} <= {s.spacing for s in specs}
    assert all(25 <= s.n_frames <= 50 for s in specs)
    assert len({s.name for s in specs}) == len(specs)
    assert {"close", "wide"} == {s.shot for s in specs}
    assert any(s.camera for s in specs) and any(s.n_petals for s in specs)


def test_writes_valid_sequence_folders(evalset: ModuleType, small_set: Path) -> None:
    seqs = find_sequences(small_set)  # the scorer's own checks: frames, sizes, keyframes
    assert [s.name for s in seqs] == sorted(s.name for s in evalset.SEQUENCES)
    for seq, spec in zip(seqs, sorted(evalset.SEQUENCES, key=lambda s: s.name), strict=True):
        assert (seq.width, seq.height) == (W, H)
        assert len(seq.frames) == spec.n_frames
        assert seq.keyframes[0] == 0 and seq.keyframes[-1] == spec.n_frames - 1
        assert set(np.diff(seq.keyframes)) == {spec.spacing}


def test_frames_actually_change(small_set: Path) -> None:
    for seq in find_sequences(small_set):
        frames = [_load(p).astype(np.int16) for p in seq.frames]
        moving = [np.abs(a - b).max() > 8 for a, b in itertools.pairwise(frames)]
        # nearly every frame moves (a blink may hold shut for a frame)
        assert np.mean(moving) >= 0.9, seq.name
        for a, b in seq.pairs():  # no keyframe pair is a repeat of the same drawing
            assert np.abs(frames[a] - frames[b]).max() > 24, (seq.name, a, b)


def test_motion_is_not_a_crossfade(small_set: Path) -> None:
    """The true in-betweens differ from a blend of their keyframes somewhere in every sequence."""
    for seq in find_sequences(small_set):
        worst = 99.0
        for a, b in seq.pairs():
            ka, kb = _load(seq.frames[a]).astype(np.float32), _load(seq.frames[b])
            mid = (a + b) // 2
            t = (mid - a) / (b - a)
            blend = np.clip(ka + t * (kb - ka) + 0.5, 0, 255).astype(np.uint8)
            worst = min(worst, psnr(_load(seq.frames[mid]), blend))
        assert worst < 30, seq.name


def test_drawing_is_deterministic(evalset: ModuleType) -> None:
    spec = evalset.SEQUENCES[0]
    one = evalset.render_frame(spec, 5.0, width=W, height=H, seed=3)
    assert one.dtype == np.uint8 and one.shape == (H, W, 3)
    assert np.array_equal(one, evalset.render_frame(spec, 5.0, width=W, height=H, seed=3))


def test_blink_passes_through_half_closed_lids(evalset: ModuleType) -> None:
    lid = evalset.blinks(10)
    values = [lid(f) for f in range(8, 18)]
    assert values[0] == 0.0 and max(values) == 1.0 and values[-1] == 0.0
    assert any(0.2 < v < 0.8 for v in values)


def test_scorer_runs_on_the_set(small_set: Path) -> None:
    report = score_folder(small_set / "wide_pan", generators=["hold"])
    cf, hold = report.score("crossfade"), report.score("hold")
    assert cf.n_frames == hold.n_frames == 44
    assert hold.psnr < 40 and cf.psnr < 40


def test_real_option_explains_missing_tools(evalset: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    monkeypatch.setattr(evalset.shutil, "which", lambda name: None)
    assert evalset.main(["--out", str(tmp_path), "--real-only"]) == 2
    assert "apt-get install" in capsys.readouterr().err


def _moving_square_lottie(frames: int) -> dict[str, object]:
    """A black square sliding left to right over ``frames`` frames, 64x48."""
    start = {"t": 0, "s": [16, 24, 0], "i": {"x": [1], "y": [1]}, "o": {"x": [0], "y": [0]}}
    still = {"a": 0, "k": 100}
    return {"v": "5.5.2", "fr": 24, "ip": 0, "op": frames, "w": 64, "h": 48, "layers": [{
        "ty": 4, "ind": 1, "ip": 0, "op": frames, "st": 0,
        "ks": {"o": still, "r": {"a": 0, "k": 0}, "a": {"a": 0, "k": [0, 0, 0]},
               "p": {"a": 1, "k": [start, {"t": frames - 1, "s": [48, 24, 0]}]},
               "s": {"a": 0, "k": [100, 100, 100]}},
        "shapes": [{"ty": "rc", "p": {"a": 0, "k": [0, 0]}, "s": {"a": 0, "k": [16, 16]},
                    "r": {"a": 0, "k": 0}},
                   {"ty": "fl", "c": {"a": 0, "k": [0, 0, 0, 1]}, "o": still}]}]}


def test_lottie_clips_are_rendered_from_the_source_package(
        evalset: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import json
    import tarfile

    sdist = tmp_path / "rlottie.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        data = json.dumps(_moving_square_lottie(13)).encode()
        info = tarfile.TarInfo(evalset.LOTTIE_FOLDER + "square.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(evalset, "LOTTIE_SDIST", sdist)
    clip = evalset.RealClip("real_lottie_square", "square.json", 0, 12, 6, "a square slides")
    assert evalset.real_missing([clip]) is None
    folder = evalset.write_real_clip(clip, tmp_path / "set")
    (seq,) = find_sequences(tmp_path / "set")
    assert seq.keyframes == (0, 6, 12) and len(seq.frames) == 13
    assert (seq.width, seq.height) == (480, 360)  # the longer side at LOTTIE_SIDE
    first, middle = _load(folder / "0000.png"), _load(folder / "0006.png")
    assert first[0, 0].tolist() == [255, 255, 255]  # composited on white
    dark = [np.nonzero(f.min(axis=2).min(axis=0) < 128)[0] for f in (first, middle)]
    assert dark[1].mean() - dark[0].mean() == pytest.approx(120, abs=8)  # half of 240 px
    assert "square.json" in (folder / "SOURCE.txt").read_text()
    monkeypatch.setattr(evalset, "LOTTIE_SDIST", tmp_path / "missing.tar.gz")
    assert "make inbetween-real-deps" in evalset.real_missing([clip])
