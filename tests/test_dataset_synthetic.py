"""The synthetic clip data sets: moving digits and captioned cel animation."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from douga.cli import app
from douga.training.cel import (
    GROUPS,
    OPPOSITES,
    cel_path,
    figure_track,
    make_cel_clip,
    measure_alternative,
    parse_caption,
    path_numbers,
    random_scene,
    recaption,
    render_cel,
    write_cel,
)
from douga.training.clips import SPLITS, ClipDataset
from douga.training.moving_digits import make_digits_clip, write_moving_digits

runner = CliRunner()


def read_all(directory: Path) -> dict[str, list[tuple[np.ndarray, str, int]]]:
    return {s: [(c.frames, c.text, c.scene) for c in ClipDataset(directory, s)] for s in SPLITS}


# ---------------------------------------------------------------------------- moving digits
def test_digits_frames_are_white_digits_on_black() -> None:
    clip = make_digits_clip(np.random.default_rng(1), frames=8, size=32)
    f = clip.frames
    assert f.shape == (8, 32, 32, 3) and f.dtype == np.uint8
    assert (f[..., 0] == f[..., 1]).all() and (f[..., 1] == f[..., 2]).all()
    assert f.max() == 255 and np.median(f) == 0
    assert clip.positions.shape == (8, 2, 2) and len(set(clip.digits)) == 2
    assert clip.text.startswith(f"the {clip.digits[0]} moves ")
    assert f"; the {clip.digits[1]} moves " in clip.text


def _signs(direction: str) -> tuple[int, int]:
    sx = 1 if "right" in direction else -1 if "left" in direction else 0
    sy = 1 if "down" in direction else -1 if "up" in direction else 0
    return sx, sy


@pytest.mark.parametrize("seed", range(8))
def test_digits_caption_matches_the_motion(seed: int) -> None:
    clip = make_digits_clip(np.random.default_rng([7, seed]), frames=16, size=48, digits=1)
    gray = clip.frames[..., 0].astype(float)  # (T, H, W)
    ys, xs = np.mgrid[:48, :48]
    mass = gray.sum(axis=(1, 2))
    track = np.stack([(gray * xs).sum((1, 2)) / mass, (gray * ys).sum((1, 2)) / mass], axis=1)
    segments = re.findall(r"moves ((?:right|left|up|down)(?: and (?:up|down))?)", clip.text)
    bounces = clip.bounces[0]
    assert len(segments) == len(bounces) + 1 == clip.text.count("bounces off") + 1
    for t in range(15):
        if t + 1 in bounces:  # the step that hits the wall goes both ways
            continue
        expected = _signs(segments[sum(b <= t for b in bounces)])
        step = track[t + 1] - track[t]
        for axis in range(2):
            if expected[axis]:
                assert np.sign(step[axis]) == expected[axis], (clip.text, t, step)
            else:
                assert abs(step[axis]) < 1e-6, (clip.text, t, step)


def test_digits_same_seed_same_data_set(tmp_path: Path) -> None:
    a = write_moving_digits(tmp_path / "a", clips=10, seed=3, frames=4, size=24)
    write_moving_digits(tmp_path / "b", clips=10, seed=3, frames=4, size=24)
    write_moving_digits(tmp_path / "c", clips=10, seed=4, frames=4, size=24)
    assert sum(a.values()) == 10
    da, db, dc = (read_all(tmp_path / n) for n in "abc")
    for s in SPLITS:
        assert len(da[s]) == len(db[s])
        for (fa, ta, sa), (fb, tb, sb) in zip(da[s], db[s], strict=True):
            assert np.array_equal(fa, fb) and ta == tb and sa == sb
    texts = {t for s in SPLITS for _, t, _ in da[s]}
    assert texts != {t for s in SPLITS for _, t, _ in dc[s]}


# ------------------------------------------------------------------------------------- cel
@pytest.mark.parametrize(("group", "k"), list(itertools.product(GROUPS, range(2))))
def test_cel_alternatives_share_ends_but_not_paths(group: str, k: int) -> None:
    scene = random_scene(np.random.default_rng([11, k]), size=48, group=group)
    clips = {alt: render_cel(scene, alt, frames=12) for alt in GROUPS[group]}
    first = next(iter(clips.values()))
    for alt, frames in clips.items():
        assert frames.shape == (12, 48, 48, 3) and frames.dtype == np.uint8
        assert np.array_equal(frames[0], first[0]) and np.array_equal(frames[-1], first[-1])
        assert measure_alternative(frames, group) == alt, (scene, alt)
    for (a, fa), (b, fb) in itertools.combinations(clips.items(), 2):
        assert not np.array_equal(fa[1:-1], fb[1:-1]), (a, b)


def test_cel_measured_track_follows_the_path() -> None:
    for i in range(6):
        clip = make_cel_clip(np.random.default_rng([5, i]), frames=10, size=64)
        track = figure_track(clip.frames)  # pixel centres sit at +0.5
        assert np.abs(track + 0.5 - clip.centres).max() < 1.0, clip.text
        centres, _ = cel_path(clip.scene, clip.alternative, frames=10)
        assert np.array_equal(centres, clip.centres)


def test_cel_captions_parse_and_recaption() -> None:
    for i in range(24):
        clip = make_cel_clip(np.random.default_rng([9, i]), frames=8, size=32)
        assert parse_caption(clip.text) == (clip.scene.group, clip.alternative)
        assert clip.text.startswith("the ") and clip.scene.color in clip.text
        assert measure_alternative(clip.frames, clip.scene.group) == clip.alternative
        for alt in GROUPS[clip.scene.group]:
            other = recaption(clip.text, alt)
            assert parse_caption(other) == (clip.scene.group, alt)
            assert other.split()[:3] == clip.text.split()[:3]
    assert parse_caption("the big red ball hops over to the left") == ("travel", "hop")
    with pytest.raises(ValueError):
        parse_caption("a cat sleeps")


def test_cel_measure_survives_blur_and_noise() -> None:
    noise = np.random.default_rng(0)
    for group in GROUPS:
        scene = random_scene(np.random.default_rng(3), size=48, group=group)
        for alt in GROUPS[group]:
            f = render_cel(scene, alt, frames=12).astype(float)
            f = (f + np.roll(f, 1, axis=1) + np.roll(f, 1, axis=2) + np.roll(f, 1, axis=(1, 2)))
            f = np.clip(f / 4 + noise.normal(0, 10, f.shape), 0, 255).astype(np.uint8)
            assert measure_alternative(f, group) == alt, (scene, alt)


def test_cel_measure_ignores_a_blotch_beside_the_figure() -> None:
    # a decoder's constant blotch in a corner must not pull the centroid or the axis
    for group in GROUPS:
        scene = random_scene(np.random.default_rng(4), size=64, group=group)
        for alt in GROUPS[group]:
            frames = render_cel(scene, alt, frames=12)
            blotched = frames.copy()
            blotched[:, -9:, :9] = (255, 0, 255)
            assert measure_alternative(blotched, group) == alt, (scene, alt)
            assert np.allclose(figure_track(blotched), figure_track(frames))


@pytest.mark.parametrize(("group", "larger", "smaller", "number"), OPPOSITES)
def test_cel_path_numbers_tell_opposite_captions_apart(group: str, larger: str, smaller: str,
                                                       number: str) -> None:
    for k in range(4):
        scene = random_scene(np.random.default_rng([13, k]), size=48, group=group)
        big = path_numbers(render_cel(scene, larger, frames=12), group)[number]
        small = path_numbers(render_cel(scene, smaller, frames=12), group)[number]
        assert big > 0 > small, (scene, big, small)


def test_cel_measure_of_a_still_clip() -> None:
    scene = random_scene(np.random.default_rng(2), size=48, group="return")
    still = np.repeat(render_cel(scene, "up", frames=8)[:1], 8, axis=0)
    assert measure_alternative(still, "return") == "still"
    assert measure_alternative(still, "loop") == "unclear"
    assert measure_alternative(still, "spin") == "unclear"
    assert path_numbers(still, "return") == pytest.approx(
        {"far_x": 0, "far_y": 0, "mean_x": 0, "mean_y": 0})
    assert path_numbers(np.zeros((8, 48, 48, 3), np.uint8), "loop") == {}  # no figure


def test_cel_same_seed_same_data_set_and_splits(tmp_path: Path) -> None:
    counts = write_cel(tmp_path / "a", clips=24, seed=1, frames=6, size=32, val=0.25,
                       test=0.25)
    write_cel(tmp_path / "b", clips=24, seed=1, frames=6, size=32, val=0.25, test=0.25)
    assert sum(counts.values()) == 24 and all(counts[s] > 0 for s in SPLITS)
    da, db = read_all(tmp_path / "a"), read_all(tmp_path / "b")
    scenes = [sc for s in SPLITS for _, _, sc in da[s]]
    assert sorted(scenes) == list(range(24))
    for s in SPLITS:
        assert [t for _, t, _ in da[s]] == [t for _, t, _ in db[s]]
        assert all(np.array_equal(x[0], y[0]) for x, y in zip(da[s], db[s], strict=True))
    info = json.loads((tmp_path / "a" / "dataset.json").read_text())["info"]
    assert info["groups"]["travel"]["hop"][0] == GROUPS["travel"]["hop"][0]


# ------------------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("command", ["moving-digits", "cel"])
def test_cli_writes_a_data_set(tmp_path: Path, command: str) -> None:
    out = tmp_path / "set"
    args = ["dataset", command, "--out", str(out), "--clips", "12", "--frames", "6",
            "--size", "32", "--seed", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"wrote {out}: 12 clips, train " in result.stdout
    meta = json.loads((out / "dataset.json").read_text())
    assert (meta["height"], meta["width"]) == (32, 32)
    assert sum(meta["splits"][s]["clips"] for s in SPLITS) == 12
    clip = ClipDataset(out, "train")[0]
    assert clip.frames.shape == (6, 32, 32, 3) and clip.text.startswith("the ")

    again = runner.invoke(app, args)  # the folder exists now
    assert again.exit_code == 2 and "--overwrite" in again.stderr
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0

    help_text = runner.invoke(app, ["dataset", command, "--help"]).stdout
    assert "Examples" in help_text and f"douga dataset {command} --out" in help_text


@pytest.mark.parametrize(("command", "bad", "mentions"), [
    ("moving-digits", ["--frames", "2"], "--frames"),
    ("moving-digits", ["--size", "8"], "--size"),
    ("moving-digits", ["--val", "0.6", "--test", "0.5"], "--val"),
    ("cel", ["--frames", "4"], "--frames"),
    ("cel", ["--size", "16"], "--size"),
    ("cel", ["--test", "-0.1"], "--test"),
    ("cel", ["--clips", "0"], "--clips"),
])
def test_cli_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, command: str, bad: list[str], mentions: str
) -> None:
    out = tmp_path / "set"
    result = runner.invoke(app, ["dataset", command, "--out", str(out), "--clips", "4", *bad])
    assert result.exit_code == 2, (result.output, result.exception)
    errors = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and mentions in errors[0]
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
