"""MAD frame effects (flash, zoom punch, decaying shake) and the lyric text overlay.

The planner schedules :class:`~douga.timeline.model.EffectEvent` s; this package draws
them, and the lyrics, onto finished frames after in-betweening. Three parts:

* :mod:`douga.effects.style` — :class:`EffectStyle`, the ``effects:`` key of the
  project file, with its validation and colour parsing.
* :mod:`douga.effects.text` — fonts, missing-glyph detection, lyric line timing,
  wrapping and the rendered text layers.
* :mod:`douga.effects.frame` — :class:`FrameEffects`, :func:`apply_effects`,
  :func:`effect_span` and the flash/zoom/shake maths.
"""

from douga.effects.frame import EFFECT_KINDS, FrameEffects, apply_effects, effect_span
from douga.effects.style import EffectStyle
from douga.effects.text import bundled_font_path, load_font, missing_glyphs

__all__ = [
    "EFFECT_KINDS",
    "EffectStyle",
    "FrameEffects",
    "apply_effects",
    "bundled_font_path",
    "effect_span",
    "load_font",
    "missing_glyphs",
]
