"""Weighted prompts: ``"a red fox:1 | blurry:-0.5"`` -> [("a red fox", 1), ("blurry", -0.5)].

The VQGAN-CLIP notebook convention: prompts are separated by ``|``; each may end in
``:weight`` (default 1). A negative weight pushes the image away from the text. A
colon that is not followed by a number belongs to the text (``"12:30 at night"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from douga.errors import InputError

__all__ = ["Prompt", "parse_prompts"]


@dataclass(frozen=True)
class Prompt:
    """One text prompt and its weight (negative: away from it)."""

    text: str
    weight: float = 1.0


def parse_prompts(spec: str, *, field: str = "prompt") -> list[Prompt]:
    """Parse ``"text[:weight] | text[:weight] ..."``; empty parts are skipped.

    Raises
    ------
    InputError
        Naming ``field``, for a weight of 0 or a part with a weight but no text.
    """
    prompts = []
    for part in spec.split("|"):
        part = part.strip()
        if not part:
            continue
        text, weight = part, 1.0
        head, sep, tail = part.rpartition(":")
        if sep:
            try:
                weight = float(tail)
            except ValueError:
                pass  # a colon inside the text
            else:
                text = head.strip()
        if not text:
            raise InputError(f"{field}: {part!r} has a weight but no text; "
                             "expected 'text:weight', such as 'a red fox:1'")
        if weight == 0 or not math.isfinite(weight):
            raise InputError(f"{field}: {part!r}: expected a non-zero finite weight")
        prompts.append(Prompt(text, weight))
    return prompts
