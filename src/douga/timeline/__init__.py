"""Timeline planning ("dynamic alignment"): project + MusicMap → Timeline."""

from douga.timeline.model import EffectEvent, FrameSpec, KeyframePlacement, Timeline
from douga.timeline.planner import KeyframeRequest, plan_from_requests, plan_timeline

__all__ = [
    "EffectEvent",
    "FrameSpec",
    "KeyframePlacement",
    "KeyframeRequest",
    "Timeline",
    "plan_from_requests",
    "plan_timeline",
]
