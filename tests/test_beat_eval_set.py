"""Tests for benchmarks/beat_eval_set.py: the composed pieces and their ground truth (no audio)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

pytest.importorskip("mido")
pretty_midi = pytest.importorskip("pretty_midi")

from douga.training import score  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "beat_eval_set.py"


@pytest.fixture(scope="module")
def evalset() -> ModuleType:
    spec = importlib.util.spec_from_file_location("beat_eval_set", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["beat_eval_set"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def songs(evalset: ModuleType) -> dict[str, Any]:
    out = {}
    for compose in evalset.PIECES:
        song = compose(np.random.default_rng([0, len(out)]))
        out[song.name] = song
    return out


def test_set_has_the_required_variety(songs: dict[str, Any]) -> None:
    assert len(songs) >= 14
    meters = {(s.meter.numerator, s.meter.denominator) for s in songs.values()}
    assert {(4, 4), (3, 4), (6, 8), (9, 8)} <= meters
    for s in songs.values():
        beats = s.beat_times()
        assert 30 <= s.duration() <= 62, s.name
        assert np.all(np.diff(beats) > 0)
        assert any(p.notes for p in s.parts)


@pytest.mark.parametrize(
    ("meter", "beats_per_bar", "beat_in_eighths"),
    [("6/8", 2, 3), ("9/8", 3, 3), ("12/8", 4, 3), ("3/4", 3, 2), ("2/4", 2, 2)],
)
def test_beat_is_the_dotted_quarter_in_compound_meters(
    evalset: ModuleType, meter: str, beats_per_bar: int, beat_in_eighths: int
) -> None:
    m = score.Meter.parse(meter)
    assert m.beats_per_bar == beats_per_bar
    assert m.beat_ticks == beat_in_eighths * score.PPQ // 2


def test_ground_truth_matches_pretty_midi(evalset: ModuleType, songs: dict[str, Any],
                                          tmp_path: Path) -> None:
    for name in ("jig", "slip_jig", "fermata_pop", "nocturne", "accelerando"):
        song = songs[name]
        path = tmp_path / f"{name}.mid"
        song.write_midi(path)
        score.check_against_pretty_midi(song, path)  # raises on a mismatch
        pm = pretty_midi.PrettyMIDI(str(path))
        if name == "jig":  # 6/8 at 116 dotted quarters per minute: 2 beats a bar
            assert np.allclose(np.diff(song.beat_times()), 60 / 116, atol=1e-5)
            assert len(pm.get_downbeats()) * 2 >= len(song.beat_times()) - 1


def test_fermata_stretches_the_held_beats(songs: dict[str, Any]) -> None:
    ibi = np.diff(songs["fermata_pop"].beat_times())
    normal = 60 / 84
    assert ibi[24] == pytest.approx(3.0 * normal, rel=1e-3)
    assert np.median(ibi) == pytest.approx(normal, rel=1e-3)


def test_composition_is_deterministic(evalset: ModuleType) -> None:
    a = evalset.PIECES[0](np.random.default_rng(7))
    b = evalset.PIECES[0](np.random.default_rng(7))
    assert [(n.tick, n.pitch, n.velocity) for p in a.parts for n in p.notes] == [
        (n.tick, n.pitch, n.velocity) for p in b.parts for n in p.notes
    ]
