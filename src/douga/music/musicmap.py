"""MusicMap: what douga hears in a song, as plain data that round-trips through JSON.

All times are float seconds from the start of the song. Musical positions are
written ``bar:beat`` (both 1-based); bar 1 starts at the first downbeat, and beats
before it (a pickup) belong to bar 0.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from douga.errors import InputError
from douga.jsonio import read_json_object, write_json


@dataclass(frozen=True)
class Section:
    """A stretch of the song with one character (intro, verse, chorus...)."""

    start: float
    end: float
    label: str
    intensity: float  # 0 (calm) .. 1 (most intense section of this song)


@dataclass(frozen=True)
class MusicMap:
    """The analysis of one song. The JSON keys are a contract: keep them."""

    duration: float
    tempo: float  # global tempo in BPM (0 when no beat was found)
    tempo_curve: list[tuple[float, float]]  # [(time, bpm)], one point per beat
    beats: list[float]
    downbeats: list[float]
    meter: int  # beats per bar
    onsets: list[float]
    onset_strength: list[float]  # one per onset, 0..1
    sections: list[Section]
    beat_intensity: list[float]  # one per beat, 0..1
    extra: dict[str, Any] = field(default_factory=dict)  # diagnostics, not a contract

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tempo_curve"] = [list(p) for p in self.tempo_curve]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "MusicMap") -> MusicMap:
        required = [
            "duration",
            "tempo",
            "tempo_curve",
            "beats",
            "downbeats",
            "meter",
            "onsets",
            "sections",
            "beat_intensity",
        ]
        missing = [k for k in required if k not in d]
        if missing:
            raise InputError(f"{source}: missing keys {missing}; expected a douga MusicMap JSON")
        try:
            mm = cls(
                duration=float(d["duration"]),
                tempo=float(d["tempo"]),
                tempo_curve=[(float(t), float(b)) for t, b in d["tempo_curve"]],
                beats=[float(x) for x in d["beats"]],
                downbeats=[float(x) for x in d["downbeats"]],
                meter=int(d["meter"]),
                onsets=[float(x) for x in d["onsets"]],
                onset_strength=[
                    float(x) for x in d.get("onset_strength", [1.0] * len(d["onsets"]))
                ],
                sections=[Section(**s) for s in d["sections"]],
                beat_intensity=[float(x) for x in d["beat_intensity"]],
                extra=dict(d.get("extra", {})),
            )
        except (TypeError, ValueError) as e:
            raise InputError(f"{source}: malformed MusicMap ({e})") from None
        _check_times(mm, source)
        return mm

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> MusicMap:
        return cls.from_dict(read_json_object(path, what="MusicMap"), source=str(path))

    # --------------------------------------------------------- musical time
    def _bar_starts(self) -> list[int]:
        """Index into ``beats`` of each downbeat (bar 1, 2, ...)."""
        index = {round(b, 6): i for i, b in enumerate(self.beats)}
        return [index[round(d, 6)] for d in self.downbeats if round(d, 6) in index]

    def time_at(self, bar: int, beat: float = 1.0) -> float:
        """Time in seconds of musical position ``bar:beat`` (1-based; beat may be fractional).

        Positions past the last tracked beat are extrapolated with the last beat period.
        Raises InputError when the song has no beats or the position is before the song.
        """
        if not self.beats:
            raise InputError(f"position {bar}:{beat:g}: the song has no beats to count bars from")
        meter = max(self.meter, 1)
        if not 1.0 <= beat < meter + 1.0:
            raise InputError(f"position {bar}:{beat:g}: a bar of this song has {meter} beats; "
                             f"expected a beat from 1 to {meter}")
        starts = self._bar_starts()
        first = starts[0] if starts else 0
        # beat index (float) counted from the first downbeat
        if starts and 1 <= bar <= len(starts):
            idx = starts[bar - 1] + (beat - 1.0)
        elif starts and bar > len(starts):
            idx = starts[-1] + (bar - len(starts)) * meter + (beat - 1.0)
        else:
            idx = first + (bar - 1) * meter + (beat - 1.0)
        return self._time_of_beat_index(idx)

    def _time_of_beat_index(self, idx: float) -> float:
        beats = self.beats
        n = len(beats)
        period = (beats[-1] - beats[0]) / (n - 1) if n > 1 else 60.0 / max(self.tempo, 1e-6)
        if idx < 0:
            t = beats[0] + idx * period
            if t < -1e-9:
                raise InputError(f"beat index {idx:g} lies before the start of the song")
            return max(t, 0.0)
        i = math.floor(idx)
        frac = idx - i
        if i >= n - 1:
            last_period = beats[-1] - beats[-2] if n > 1 else period
            return beats[-1] + (idx - (n - 1)) * last_period
        return beats[i] + frac * (beats[i + 1] - beats[i])

    def position_of(self, time: float) -> tuple[int, float]:
        """Musical position (bar, beat) of a time, beat 1-based and possibly fractional."""
        if not self.beats:
            return (1, 1.0)
        starts = self._bar_starts() or [0]
        # fractional beat index of `time`
        b = self.beats
        if time <= b[0]:
            period = (b[1] - b[0]) if len(b) > 1 else 60.0 / max(self.tempo, 1e-6)
            idx = (time - b[0]) / period
        elif time >= b[-1]:
            period = (b[-1] - b[-2]) if len(b) > 1 else 60.0 / max(self.tempo, 1e-6)
            idx = (len(b) - 1) + (time - b[-1]) / period
        else:
            i = bisect.bisect_right(b, time) - 1
            idx = i + (time - b[i]) / (b[i + 1] - b[i])
        meter = max(self.meter, 1)
        bar = 0
        for k, s in enumerate(starts):
            if idx + 1e-6 >= s:
                bar = k + 1
        if bar == 0:
            return (0, idx - (starts[0] - meter) + 1.0)
        if bar == len(starts):
            extra_bars = int((idx - starts[-1]) // meter)
            return (bar + extra_bars, (idx - starts[-1]) - extra_bars * meter + 1.0)
        return (bar, idx - starts[bar - 1] + 1.0)

    def format_position(self, time: float) -> str:
        bar, beat = self.position_of(time)
        return f"{bar}:{round(beat, 2):g}"


def _check_times(mm: MusicMap, source: str) -> None:
    """Times that planning relies on: finite, in order, inside the song."""
    if not (math.isfinite(mm.duration) and mm.duration >= 0):
        raise InputError(f"{source}: duration: got {mm.duration}; expected seconds ≥ 0")
    if mm.meter < 1:
        raise InputError(f"{source}: meter: got {mm.meter}; expected beats per bar ≥ 1")
    for key in ("beats", "downbeats", "onsets"):
        times = getattr(mm, key)
        if times and not (all(map(math.isfinite, times))
                          and all(b >= a for a, b in itertools.pairwise(times))
                          and times[0] >= 0 and times[-1] <= mm.duration + 0.5):
            raise InputError(f"{source}: {key}: expected finite times in increasing order, "
                             f"from 0 to the song's duration ({mm.duration:g} s)")
