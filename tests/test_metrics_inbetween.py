"""Tests for douga.metrics.inbetween: measures, folder checks and scoring on tiny sequences."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from douga.errors import InputError
from douga.generators.base import available_generators
from douga.metrics.inbetween import (
    ACCURACY_SSIM,
    PSNR_MAX,
    InbetweenReport,
    find_sequences,
    format_table,
    psnr,
    read_sequence,
    score_folder,
    score_sequence,
    ssim,
)

W, H = 64, 48


def _crossfade(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The crossfade generator's own arithmetic, so its output matches bit for bit."""
    fa = a.astype(np.float32)
    return np.clip(fa + float(t) * (b.astype(np.float32) - fa) + 0.5, 0, 255).astype(np.uint8)


def _write(folder: Path, frames: list[np.ndarray], keyframes: list[int] | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"{i:04d}.png")
    if keyframes is not None:
        (folder / "keyframes.txt").write_text("".join(f"{k}\n" for k in keyframes))
    return folder


def _textured(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def _fade_sequence(folder: Path) -> Path:
    """Keyframes 0, 4, 8; every other frame is exactly the crossfade of its pair."""
    k0, k4, k8 = _textured(1), _textured(2), _textured(3)
    frames = [k0] + [_crossfade(k0, k4, k / 4) for k in (1, 2, 3)]
    frames += [k4] + [_crossfade(k4, k8, k / 4) for k in (1, 2, 3)] + [k8]
    return _write(folder, frames, [0, 4, 8])


def _uniform(value: int) -> np.ndarray:
    return np.full((H, W, 3), value, dtype=np.uint8)


def _square_sequence(folder: Path) -> Path:
    """A dark square sliding right 4 px a frame over grey; keyframes every 3 frames."""
    frames = []
    for i in range(7):
        f = _uniform(200)
        f[16:32, 4 + 4 * i : 20 + 4 * i] = (20, 40, 90)
        frames.append(f)
    return _write(folder, frames, [0, 3, 6])


@pytest.fixture
def eval_set(tmp_path: Path) -> Path:
    root = tmp_path / "set"
    _fade_sequence(root / "fade")
    _square_sequence(root / "square")
    _write(root / "still", [_textured(7)] * 5, [0, 4])
    return root


# ----------------------------------------------------------------------------- measures


def test_psnr_known_values() -> None:
    a = _uniform(0)
    assert psnr(a, a) == PSNR_MAX
    for v in (50, 100, 150):
        assert psnr(a, _uniform(v)) == pytest.approx(20 * math.log10(255 / v), abs=1e-12)


@pytest.mark.parametrize("shape", [(7, 7, 3), (48, 64, 3), (101, 37, 3), (300, 29, 3)])
def test_ssim_matches_scikit_image(shape: tuple[int, int, int]) -> None:
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(shape[0])
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-60, 60, shape), 0, 255).astype(np.uint8)
    flat = np.full(shape, 128, dtype=np.uint8)
    for x, y in ((a, b), (a, a), (a, flat)):
        ref = structural_similarity(x, y, channel_axis=2, data_range=255)
        assert ssim(x, y) == pytest.approx(ref, abs=1e-12)


def test_ssim_of_a_cel_image_matches_scikit_image() -> None:
    from skimage.metrics import structural_similarity

    a = _uniform(240)
    a[10:30, 10:40] = (30, 30, 40)
    b = np.roll(a, 3, axis=1)
    assert ssim(a, b) == pytest.approx(
        structural_similarity(a, b, channel_axis=2, data_range=255), abs=1e-12)
    assert ssim(a, a) == 1.0


# ----------------------------------------------------------------------------- scoring


def test_crossfade_is_exact_on_a_linear_fade(eval_set: Path) -> None:
    seq = score_sequence(eval_set / "fade", generators=["hold"])
    assert [s.generator for s in seq.scores] == ["crossfade", "hold"]
    cf = seq.score("crossfade")
    assert cf.n_frames == 6
    assert cf.psnr == PSNR_MAX and cf.ssim == pytest.approx(1.0) and cf.accuracy == 1.0
    frames = seq.frames["crossfade"]
    assert [f.frame for f in frames] == [1, 2, 3, 5, 6, 7]
    assert [f.t for f in frames] == [0.25, 0.5, 0.75] * 2
    hold = seq.score("hold")
    assert hold.psnr < 20 and hold.accuracy < 1.0


def test_hold_scores_known_psnr_on_a_uniform_fade(tmp_path: Path) -> None:
    # 0 -> 200 over 4 frames: true frames are 50, 100, 150; hold repeats 0
    frames = [_uniform(v) for v in (0, 50, 100, 150, 200)]
    folder = _write(tmp_path / "fade", frames, [0, 4])
    hold = score_sequence(folder, generators=["hold"]).score("hold")
    want = np.mean([20 * math.log10(255 / v) for v in (50, 100, 150)])
    assert hold.psnr == pytest.approx(want, abs=1e-9)
    c1 = (0.01 * 255) ** 2  # SSIM of flat frames: (2·0·v + C1)/(v² + C1)
    want_ssim = np.mean([c1 / (v * v + c1) for v in (50, 100, 150)])
    assert hold.ssim == pytest.approx(want_ssim, abs=1e-9)
    assert hold.accuracy == 0.0
    cf = score_sequence(folder, generators=[]).score("crossfade")
    assert cf.psnr == PSNR_MAX


def test_score_folder_means_and_json(eval_set: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    report = score_folder(eval_set, generators=["hold"],
                          progress=lambda d, t, n: calls.append((d, t, n)))
    assert isinstance(report, InbetweenReport)
    assert report.generators == ("crossfade", "hold")
    assert [s.name for s in report.sequences] == ["fade", "square", "still"]
    assert calls[-1][:2] == (5, 5) and len(calls) == 5  # 2 + 2 + 1 keyframe pairs
    cf = report.score("crossfade")
    assert cf.n_frames == 6 + 4 + 3
    per_frame = [f for s in report.sequences for f in s.frames["crossfade"]]
    assert cf.psnr == pytest.approx(np.mean([f.psnr for f in per_frame]))
    assert cf.accuracy == pytest.approx(np.mean([f.ssim >= ACCURACY_SSIM for f in per_frame]))
    still = report.sequences[2]
    assert still.score("hold").psnr == PSNR_MAX and still.spacings == (4,)
    # the moving square: neither baseline is right, hold is further off
    sq = report.sequences[1]
    assert sq.score("hold").psnr < sq.score("crossfade").psnr < 40
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["overall"][0]["generator"] == "crossfade"
    assert data["sequences"][0]["frames"]["hold"][0]["frame"] == 1
    table = format_table(report)
    for word in ("fade", "square", "still", "overall", "crossfade", "hold", "PSNR", "vs crossfade"):
        assert word in table


def test_default_runs_every_generator_that_needs_no_weights(eval_set: Path) -> None:
    report = score_folder(eval_set / "square")  # one sequence folder works too
    assert report.generators[0] == "crossfade"
    assert set(report.generators) | set(report.skipped) == set(available_generators()) - {
        "learned", "clip"}
    assert len(report.sequences) == 1


def test_unknown_generator_is_an_input_error(eval_set: Path) -> None:
    with pytest.raises(InputError, match="unknown"):
        score_folder(eval_set, generators=["nope"])


# ----------------------------------------------------------------------------- bad folders


def test_missing_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        find_sequences(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no sequences found"):
        find_sequences(tmp_path / "empty")
    (tmp_path / "empty" / "notes").mkdir()  # a folder without frames is not a sequence
    with pytest.raises(InputError, match="no sequences found"):
        score_folder(tmp_path / "empty")


def test_missing_keyframes_file(tmp_path: Path) -> None:
    _write(tmp_path / "set" / "a", [_uniform(0), _uniform(9)], None)
    with pytest.raises(InputError, match=r"a/keyframes\.txt: not found"):
        find_sequences(tmp_path / "set")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0\n9\n", r"keyframes\.txt:2: keyframe 9 is out of range; the folder has frames 0\.\.4"),
        ("0\n-1\n", r"keyframes\.txt:2: keyframe -1 is out of range"),
        ("0\nfour\n", r"keyframes\.txt:2: got 'four'"),
        ("2\n2\n", r"keyframes\.txt:2: keyframe 2 follows 2"),
        ("# only one\n3\n", r"keyframes\.txt: 1 keyframe\(s\)"),
    ],
)
def test_bad_keyframes(tmp_path: Path, text: str, match: str) -> None:
    folder = _write(tmp_path / "s", [_uniform(v) for v in range(5)], None)
    (folder / "keyframes.txt").write_text(text)
    with pytest.raises(InputError, match=match):
        read_sequence(folder)


def test_frames_of_different_sizes(tmp_path: Path) -> None:
    frames = [_uniform(0), _uniform(5), np.zeros((H, W + 2, 3), np.uint8)]
    _write(tmp_path / "s", frames, [0, 2])
    with pytest.raises(InputError, match=r"0002\.png: 66×48 pixels; expected 64×48"):
        score_folder(tmp_path)


def test_missing_frame_and_bad_image(tmp_path: Path) -> None:
    folder = _write(tmp_path / "s", [_uniform(v) for v in range(4)], [0, 3])
    (folder / "0001.png").unlink()
    with pytest.raises(InputError, match=r"0001\.png: frame 1 is missing"):
        read_sequence(folder)
    (folder / "0001.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match=r"0001\.png"):
        read_sequence(folder)


def test_importing_the_scorer_does_not_import_torch() -> None:
    code = (
        "import sys, douga.metrics.inbetween; "
        "assert 'torch' not in sys.modules and 'skimage' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
