"""The ``clip`` generator: in-betweens optimised towards the keyframes' texts (VQGAN-CLIP).

Between keyframes A and B the picture starts as A (the init image) and is optimised
with CLIP towards the pair's texts (A's, B's, else the project's style, as weighted
prompts ``"text:weight | ..."``) while an image prompt and a pixel term pull it
towards B, both ramped in with t, so the shot starts on A and lands on B. A snapshot
is taken for every t after ``images_interval`` steps; the optimisation runs at
``guidance.size`` and frames are scaled to the keyframes' size.

Needs CLIP weights (``guidance.clip`` in the project file) and the ``learned`` extra.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from douga.errors import MissingDependency
from douga.generators.base import Generator, PairContext, check_pair, pair_texts
from douga.guided.settings import GuidanceSpec


class ClipGenerator(Generator):
    """Text-guided in-betweens.

    Parameters
    ----------
    guidance
        The project's ``guidance:`` settings (CLIP path, parameterisation, steps...).
    device
        ``"cpu"``, ``"cuda"``...; default: CUDA when available.
    """

    name = "clip"

    def __init__(self, guidance: GuidanceSpec | None = None, *, device: str | None = None) -> None:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise MissingDependency("generator 'clip' needs torch: pip install 'douga[learned]'"
                                    ) from None
        from douga.guided.weights import load_guidance_models

        self.spec = guidance or GuidanceSpec()
        self.models = load_guidance_models(self.spec, audio=False, device=device)
        self.version = "1-" + hashlib.sha1(
            self.spec.model_dump_json(exclude={"prompts", "audio_encoder"}).encode()
        ).hexdigest()[:12]

    def inbetween(self, a: np.ndarray, b: np.ndarray, ts: Sequence[float], *,
                  context: PairContext | None = None) -> Iterator[np.ndarray]:
        from douga.guided.image import Target, embed_images
        from douga.guided.prompts import parse_prompts
        from douga.guided.weights import new_guided_image

        check_pair(a, b, ts)
        if not ts:
            return
        context = context or PairContext()
        h, w = a.shape[:2]
        guided = new_guided_image(self.models, self.spec, width=w, height=h, seed=context.seed)
        opt_h, opt_w = guided.param.size
        small_a = cv2.resize(a, (opt_w, opt_h), interpolation=cv2.INTER_AREA)
        small_b = cv2.resize(b, (opt_w, opt_h), interpolation=cv2.INTER_AREA)
        guided.set_image(small_a)
        prompts = parse_prompts(" | ".join(pair_texts(context)), field="keyframe text")
        texts = self.models.guide.encode_text([p.text for p in prompts])
        targets = [Target(v, p.weight) for v, p in zip(texts, prompts, strict=True)]
        b_vector = embed_images(self.models.guide, [small_b], seed=context.seed)[0]
        order = sorted(range(len(ts)), key=lambda i: float(ts[i]))
        in_order = order == list(range(len(ts)))  # the usual case: stream the frames
        made: dict[int, np.ndarray] = {}
        for i in order:
            t = float(ts[i])
            pull = self.spec.keyframe_weight * t
            guided.step([*targets, Target(b_vector, pull)], self.spec.images_interval,
                        pixel_target=small_b, pixel_weight=pull * t)
            frame = cv2.resize(guided.image(), (w, h), interpolation=cv2.INTER_CUBIC)
            if in_order:
                yield frame
            else:
                made[i] = frame
        for i in range(len(ts)) if not in_order else ():
            yield made[i]
