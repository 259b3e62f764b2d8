"""Timeline planning ("dynamic alignment"): project + MusicMap → Timeline."""

from douga.timeline.model import EffectEvent, FrameSpec, KeyframePlacement, Timeline

__all__ = ["EffectEvent", "FrameSpec", "KeyframePlacement", "Timeline"]
