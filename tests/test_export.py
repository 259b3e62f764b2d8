"""Exports for editors: the OpenTimelineIO timeline (read back with opentimelineio) and the
anime timesheet CSV, made with `douga export` on the demo project."""

from __future__ import annotations

import csv
from pathlib import Path

import opentimelineio as otio
import pytest
from typer.testing import CliRunner

from douga.cli import app
from douga.demo import write_demo_project
from douga.music.analyze import analyze_music
from douga.music.lyrics import load_lyrics
from douga.project import load_project
from douga.timeline import plan_timeline
from tests.test_cli import assert_one_line_error

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("export") / "proj"
    write_demo_project(out, seconds=12.0, width=160, height=96)
    analysis = out / "song.map.json"
    proj = load_project(out / "project.yaml")
    analyze_music(proj.audio).save(analysis)
    return out / "project.yaml", analysis


def _plan(project: Path, analysis: Path):  # type: ignore[no-untyped-def]
    from douga.music.musicmap import MusicMap

    proj = load_project(project)
    mm = MusicMap.load(analysis)
    lyrics = load_lyrics(proj.lyrics) if proj.lyrics else []
    return proj, mm, plan_timeline(proj, mm, effects=True), lyrics


def _export(project: Path, analysis: Path, *flags: str) -> None:
    """``douga export PROJECT --analysis ANALYSIS FLAGS...``, which must succeed."""
    result = runner.invoke(app, ["export", str(project), "--analysis", str(analysis), *flags])
    assert result.exit_code == 0, result.output


def test_otio_export_reads_back(demo: tuple[Path, Path], tmp_path: Path) -> None:
    project, analysis = demo
    out = tmp_path / "mad.otio"
    _export(project, analysis, "--otio", str(out))
    proj, mm, tl, lyrics = _plan(project, analysis)
    timeline = otio.adapters.read_from_file(str(out))
    video, audio = timeline.tracks
    assert video.kind == otio.schema.TrackKind.Video and audio.kind == otio.schema.TrackKind.Audio
    fps = tl.fps
    # the clips cover the video exactly, and each keyframe's hold starts on its frame
    assert video.duration().to_frames() == tl.frame_count
    assert audio.duration().to_frames() == tl.frame_count
    assert Path(audio[0].media_reference.target_url.removeprefix("file://")) == proj.audio
    holds = [c for c in video if c.metadata["douga"]["kind"] == "hold"]
    starts = [video.range_of_child(c).start_time for c in holds]
    keys = {k.index: k for k in tl.keyframes}
    for clip, start in zip(holds, starts, strict=True):
        k = keys[clip.metadata["douga"]["keyframe"] - 1]
        assert start.to_frames() == k.frame and start.rate == fps
        assert clip.media_reference.target_url.endswith(Path(k.image).name)
    assert {h.metadata["douga"]["keyframe"] for h in holds} == {k.index + 1 for k in tl.keyframes}
    betweens = [c for c in video if c.metadata["douga"]["kind"] == "between"]
    assert betweens and all(isinstance(c.media_reference, otio.schema.GeneratorReference)
                            for c in betweens)
    # markers: beats, downbeats, sections and lyrics, at their frames
    markers = timeline.tracks.markers
    kinds = [m.metadata["douga"]["kind"] for m in markers]
    assert kinds.count("downbeat") == len([t for t in mm.downbeats if t * fps < tl.frame_count])
    assert kinds.count("beat") + kinds.count("downbeat") == len(
        [t for t in mm.beats if t * fps < tl.frame_count])
    assert kinds.count("section") == len(mm.sections)
    assert kinds.count("lyric") == len([x for x in lyrics if x.start * fps < tl.frame_count])
    first_bar = next(m for m in markers if m.metadata["douga"]["kind"] == "downbeat")
    assert first_bar.marked_range.start_time.to_frames() == round(mm.downbeats[0] * fps)
    section = next(m for m in markers if m.metadata["douga"]["kind"] == "section")
    assert section.marked_range.duration.to_frames() == round(
        (mm.sections[0].end - mm.sections[0].start) * fps)
    lyric = next(m for m in markers if m.metadata["douga"]["kind"] == "lyric")
    assert lyric.name == lyrics[0].text.replace("\n", " / ")


def test_otio_in_betweens_can_point_into_the_render(demo: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    project, analysis = demo
    import av
    import numpy as np

    video = tmp_path / "video.mp4"  # any real video: export reads only its header
    with av.open(str(video), mode="w") as c:
        stream = c.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        for _ in range(2):
            c.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8))))
        c.mux(stream.encode())
    out = tmp_path / "mad.otio"
    _export(project, analysis, "--otio", str(out), "--video", str(video))
    track = otio.adapters.read_from_file(str(out)).tracks[0]
    for clip in track:
        if clip.metadata["douga"]["kind"] == "between":
            assert clip.media_reference.target_url.endswith("video.mp4")
            assert clip.source_range.start_time == track.range_of_child(clip).start_time


def test_xsheet_has_a_row_per_frame(demo: tuple[Path, Path], tmp_path: Path) -> None:
    project, analysis = demo
    out = tmp_path / "sheet.csv"
    _export(project, analysis, "--xsheet", str(out))
    _proj, _mm, tl, lyrics = _plan(project, analysis)
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == tl.frame_count
    assert list(rows[0]) == ["frame", "time", "position", "drawing", "new", "exposure",
                             "timing", "cut", "effects", "lyric"]
    for k in tl.keyframes:
        row = rows[k.frame]
        assert row["drawing"] == f"K{k.index + 1}" and row["new"] == "1"
        assert row["cut"] == ("1" if k.cut else "0")
    # exposures add up: each drawing's exposure is the length of its run
    i = 0
    while i < len(rows):
        n = int(rows[i]["exposure"])
        assert rows[i]["new"] == "1" and all(r["new"] == "0" for r in rows[i + 1:i + n])
        assert {r["drawing"] for r in rows[i:i + n]} == {rows[i]["drawing"]}
        i += n
    timings = {r["timing"] for r in rows}
    assert timings & {"ones", "twos", "threes"}
    between = [r["drawing"] for r in rows if "-" in r["drawing"] and r["new"] == "1"]
    assert between and between[0].startswith("K1-K2 1/")
    flagged = [int(r["frame"]) for r in rows if r["effects"]]
    assert flagged == sorted({e.frame for e in tl.effects if e.frame < tl.frame_count})
    assert any(r["lyric"] for r in rows) == bool(lyrics)


def test_export_errors(demo: tuple[Path, Path], tmp_path: Path) -> None:
    project, _analysis = demo
    assert_one_line_error(runner.invoke(app, ["export", str(project)]), mentions="--otio")
    assert_one_line_error(runner.invoke(app, ["export", str(project), "--otio",
                                              str(tmp_path / "x.json")]), mentions=".otio")
    assert_one_line_error(runner.invoke(app, ["export", str(project), "--otio",
                                              str(tmp_path / "x.otio"), "--video",
                                              str(tmp_path / "none.mp4")]), mentions="none.mp4")
    assert not (tmp_path / "x.otio").exists()
