"""Music2Video (Jang et al.): one guidance per music segment, images paced by intensity.

For each segment (:mod:`douga.guided.segments`) the guidance vector is the lyric's
text embedding when a lyric line starts in the segment, else the segment's audio
embedding (Wav2CLIP), so both the music and the words show. Temporal consistency:

* ``add`` (the paper's choice) — the previous segment's guidance vector is added to
  the current one, so objects of the last segment linger into the next;
* ``l1`` — the latent pays an L1 distance to where it was when the segment began
  (the paper's first attempt, kept for comparison);
* ``none``.

The user's scheduled prompts of the segment are added as weighted text targets.
Keyframes, when the project has them, are shown exactly at their planned times, the
image restarts from each, and the run-up to the next keyframe is pulled towards it
(an image prompt and a pixel term, both ramped in), so guided stretches start and
end on the artist's drawings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from douga.errors import InputError
from douga.guided.image import GuidedImage, Target, embed_images
from douga.guided.prompts import parse_prompts
from douga.guided.segments import Segment
from douga.guided.settings import GuidanceSpec
from douga.guided.video import Motion, apply_motion
from douga.images import load_image
from douga.models.clip import ClipGuide

__all__ = ["KeyImage", "music_video_snapshots", "segment_targets"]


@dataclass(frozen=True)
class KeyImage:
    """A keyframe at its planned time: ``image`` at the optimisation size (it restarts the
    optimisation), ``shown`` the picture the video shows on its frame (default ``image``)."""

    time: float
    image: np.ndarray
    shown: np.ndarray | None = None

    @property
    def picture(self) -> np.ndarray:
        return self.image if self.shown is None else self.shown


def segment_targets(segments: Sequence[Segment], guide: ClipGuide, *,
                    samples: np.ndarray, rate: int, audio_encoder: object | None,
                    consistency: str) -> list[list[Target]]:
    """The guidance of every segment: its lyric or audio vector, then its scheduled prompts."""
    mono = np.asarray(samples, dtype=np.float32)
    if mono.ndim > 1:
        mono = mono.mean(axis=0)
    vectors: list[torch.Tensor | None] = []
    for seg in segments:
        if seg.lyric:
            vectors.append(guide.encode_text([seg.lyric])[0])
        elif audio_encoder is not None:
            clip = mono[int(seg.start * rate):max(int(seg.end * rate), int(seg.start * rate) + 1)]
            v = audio_encoder.embed(clip, rate).to(guide.device)  # type: ignore[attr-defined]
            if v.shape[-1] != guide.dim:
                raise InputError(f"guidance.audio_encoder: its vectors have {v.shape[-1]} "
                                 f"dimensions but the CLIP model's have {guide.dim}; expected "
                                 "the Wav2CLIP of this CLIP (ViT-B/32)")
            vectors.append(v)
        else:
            vectors.append(None)
    if consistency == "add":
        vectors = [v if v is None or i == 0 or vectors[i - 1] is None
                   else F.normalize(v + vectors[i - 1], dim=-1)  # type: ignore[operator]
                   for i, v in enumerate(vectors)]
    out = []
    pictures: dict[str, torch.Tensor] = {}
    for i, (seg, v) in enumerate(zip(segments, vectors, strict=True)):
        targets = [] if v is None else [Target(v)]
        prompts = parse_prompts(seg.prompt, field=f"guidance.prompts (segment {i + 1})")
        if prompts:
            emb = guide.encode_text([p.text for p in prompts])
            targets += [Target(e, p.weight) for e, p in zip(emb, prompts, strict=True)]
        for path, weight in seg.image_prompts:
            if path not in pictures:
                pictures[path] = embed_images(guide, [load_image(path)])[0]
            targets.append(Target(pictures[path], weight))
        out.append(targets)
    return out


def music_video_snapshots(
    segments: Sequence[Segment],
    targets: Sequence[list[Target]],
    guided: GuidedImage,
    *,
    spec: GuidanceSpec,
    keyframes: Sequence[KeyImage] = (),
    progress: Callable[[float], None] | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """(time, image) snapshots of the whole video, in time order.

    Each segment makes ``segment.images`` new images, evenly spaced over it, each after
    ``spec.images_interval`` steps from the previous image moved by the feedback motion.
    """
    motion = Motion(spec.zoom, spec.angle, tuple(spec.shift))  # type: ignore[arg-type]
    keys = sorted(keyframes, key=lambda k: k.time)
    key_images = embed_images(guided.guide, [k.image for k in keys]) if keys else None
    total = sum(s.images for s in segments) or 1
    done = 0
    k_next = 0  # the next keyframe not shown yet
    last_key_time = 0.0
    if keys and keys[0].time <= (segments[0].start if segments else 0.0):
        guided.set_image(keys[0].image)
    elif segments and spec.init_steps:
        guided.step(targets[0], spec.init_steps)
    image = guided.image()
    if keys and keys[0].time <= 0.0:
        yield 0.0, keys[0].picture
        image, k_next = keys[0].image, 1
    else:
        yield 0.0, image
    for seg, seg_targets in zip(segments, targets, strict=True):
        if spec.consistency == "l1":
            guided.anchor()
        for k in range(seg.images):
            t = seg.start + k * (seg.end - seg.start) / seg.images
            on_key = False  # a keyframe due at this very time takes the image's place
            while k_next < len(keys) and keys[k_next].time <= t + 1e-6:
                key = keys[k_next]
                guided.set_image(key.image)
                image, last_key_time = key.image, key.time
                yield key.time, key.picture
                k_next += 1
                on_key = on_key or key.time >= t - 1e-6
            done += 1
            if progress is not None:
                progress(done / total)
            if on_key:
                continue
            goal = list(seg_targets)
            pixel, weight = None, 0.0
            if k_next < len(keys) and key_images is not None and spec.keyframe_weight > 0:
                key = keys[k_next]
                ramp = float(np.clip((t - last_key_time) / max(key.time - last_key_time, 1e-6),
                                     0.0, 1.0))
                goal.append(Target(key_images[k_next], spec.keyframe_weight * ramp))
                pixel, weight = key.image, spec.keyframe_weight * ramp**2
            if not motion.still:
                guided.set_image(apply_motion(image, motion))
            guided.step(goal, spec.images_interval, pixel_target=pixel, pixel_weight=weight)
            image = guided.image()
            if k > 0 or t > 0.0:
                yield t, image
    for key in keys[k_next:]:
        yield key.time, key.picture
