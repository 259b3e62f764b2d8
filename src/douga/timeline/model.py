"""Timeline: when each keyframe shows, what every output frame is, and the effect events.

Plain data that round-trips through JSON; the JSON keys are a contract.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from douga.errors import InputError
from douga.jsonio import read_json_object, write_json

FrameKind = Literal["key", "between", "hold"]
EffectKind = Literal["flash", "zoom", "shake"]


@dataclass(frozen=True)
class KeyframePlacement:
    index: int  # position in the project's keyframe list
    image: str  # path of the keyframe image
    time: float  # seconds; exactly frame / fps
    frame: int  # output frame on which the keyframe is shown
    anchor: str | None  # musical anchor "bar:beat", or None when placed in free time
    anchor_time: float  # the musical anchor's exact time in seconds (before frame rounding)
    cut: bool = False  # a hard cut into this keyframe (no in-between from the previous one)


@dataclass(frozen=True)
class FrameSpec:
    """One output frame: keyframe ``a`` (kind "key"), an in-between of a→b at ``t``
    (kind "between"), or a repeat of the previous drawing (kind "hold")."""

    kind: FrameKind
    a: int
    b: int
    t: float


@dataclass(frozen=True)
class EffectEvent:
    frame: int
    kind: EffectKind
    strength: float  # 0..1


@dataclass(frozen=True)
class Timeline:
    fps: float
    frame_count: int
    keyframes: list[KeyframePlacement]
    frames: list[FrameSpec]
    effects: list[EffectEvent]
    extra: dict[str, Any] = field(default_factory=dict)  # per-section pacing etc.; no contract

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "Timeline") -> Timeline:
        missing = [
            k for k in ("fps", "frame_count", "keyframes", "frames", "effects") if k not in d
        ]
        if missing:
            raise InputError(f"{source}: missing keys {missing}; expected a douga Timeline JSON")
        try:
            tl = cls(
                fps=float(d["fps"]),
                frame_count=int(d["frame_count"]),
                keyframes=[KeyframePlacement(**k) for k in d["keyframes"]],
                frames=[FrameSpec(**f) for f in d["frames"]],
                effects=[EffectEvent(**e) for e in d["effects"]],
                extra=dict(d.get("extra", {})),
            )
        except (TypeError, ValueError) as e:
            raise InputError(f"{source}: malformed Timeline ({e})") from None
        if not (math.isfinite(tl.fps) and tl.fps > 0):
            raise InputError(f"{source}: fps: got {tl.fps}; expected a positive frame rate")
        if tl.frame_count < 1 or (tl.frames and tl.frame_count != len(tl.frames)):
            raise InputError(f"{source}: frame_count is {tl.frame_count} and {len(tl.frames)} "
                             "frames are listed; expected one entry per frame (or none)")
        for kp in tl.keyframes:
            if not 0 <= kp.frame < tl.frame_count:
                raise InputError(f"{source}: keyframe {kp.index}: frame {kp.frame}; expected a "
                                 f"frame from 0 to {tl.frame_count - 1}")
        return tl

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Timeline:
        return cls.from_dict(read_json_object(path, what="Timeline"), source=str(path))
