"""Timeline planning ("dynamic alignment"): project + MusicMap → Timeline."""

from douga.timeline.model import EffectEvent, FrameSpec, KeyframePlacement, Timeline
from douga.timeline.planner import (
    KeyframeRequest,
    placement_position,
    plan_from_requests,
    plan_timeline,
)

__all__ = [
    "EffectEvent",
    "FrameSpec",
    "KeyframePlacement",
    "KeyframeRequest",
    "Timeline",
    "placement_position",
    "plan_from_requests",
    "plan_timeline",
]
