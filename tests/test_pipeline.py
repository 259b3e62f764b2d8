"""End to end: a 5 s project rendered to mp4, decoded and checked against its plan."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import yaml

from douga.demo import write_demo_project
from douga.images import fit_image, load_image
from douga.metrics.inbetween import psnr
from douga.pipeline import RenderSettings, render_project, render_size
from douga.project import load_project

SECONDS = 5.0
W, H = 320, 180


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e2e")
    write_demo_project(out, seconds=SECONDS, width=W, height=H, n_keyframes=4)
    return out


def _with(project_dir: Path, **keys: object) -> Path:
    data = yaml.safe_load((project_dir / "project.yaml").read_text())
    data.update(keys)
    path = project_dir / f"project-{'-'.join(keys) or 'plain'}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _decode(path: Path) -> tuple[list[np.ndarray], av.container.InputContainer]:
    container = av.open(str(path))
    frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames, container


def test_render_matches_plan(project_dir: Path) -> None:
    project = load_project(_with(project_dir, effects="none"))
    out = project_dir / "plain.mp4"
    report, timeline = render_project(project, out, settings=RenderSettings(cache=False))
    frames, container = _decode(out)
    video = container.streams.video[0]
    audio = container.streams.audio[0]
    assert video.codec_context.name == "h264" and video.format.name == "yuv420p"
    assert float(video.average_rate) == pytest.approx(24.0)
    assert audio.codec_context.name == "aac"
    assert len(frames) == timeline.frame_count == report.frame_count
    assert frames[0].shape == (H, W, 3)
    assert abs(len(frames) / 24.0 - SECONDS) <= 1 / 24 + 1e-6
    assert container.duration is not None
    assert abs(container.duration / 1e6 - SECONDS) <= 1.5 / 24
    container.close()
    for kf in timeline.keyframes:  # every keyframe sits on its planned frame
        source = fit_image(load_image(kf.image), W, H)
        assert psnr(source, frames[kf.frame]) >= 35.0, kf


def test_effects_land_on_their_frames(project_dir: Path) -> None:
    plain, _ = _decode(project_dir / "plain.mp4")
    project = load_project(_with(project_dir, effects={"lyric_text": False}))
    out = project_dir / "fx.mp4"
    _, timeline = render_project(project, out, settings=RenderSettings(cache=False))
    fx, _ = _decode(out)
    assert timeline.effects, "the demo song schedules effects"
    hit = {e.frame for e in timeline.effects}
    for frame in sorted(hit):
        diff = np.abs(fx[frame].astype(int) - plain[frame].astype(int)).mean()
        assert diff > 2.0, frame
    # a frame far from every event is the same as without effects (up to coding noise)
    quiet = [i for i in range(len(fx)) if all(abs(i - f) > 12 for f in hit)]
    for i in quiet:
        assert psnr(plain[i], fx[i]) >= 38.0, i


def test_cache_reuses_shots_and_rerenders_only_edits(project_dir: Path) -> None:
    path = _with(project_dir, generator="crossfade")
    project = load_project(path)
    out = project_dir / "cached.mp4"
    first, _ = render_project(project, out, settings=RenderSettings())
    again, _ = render_project(project, out, settings=RenderSettings())
    assert again.shots_rendered == 0 and again.shots_cached == first.shots_rendered
    # edit the last keyframe: only the shots that show it are made again
    kf = project_dir / "kf/04.png"
    img = load_image(kf)
    from PIL import Image

    Image.fromarray(255 - img).save(kf)
    edited, _ = render_project(load_project(path), out, settings=RenderSettings())
    assert 1 <= edited.shots_rendered < first.shots_rendered
    assert edited.shots_rendered + edited.shots_cached == first.shots_rendered + first.shots_cached


def test_preview_size() -> None:
    class Out:
        width, height = 1920, 1080

    class P:
        output = Out()

    assert render_size(P(), preview=True) == (640, 360)  # type: ignore[arg-type]
    assert render_size(P(), preview=False) == (1920, 1080)  # type: ignore[arg-type]
