"""Does the caption steer the learned in-betweens? Measured on the captioned cel set.

Every cel clip belongs to a caption group whose alternatives share the first and last
frame ("the red ball hops over to the right" / "slides to the right" / "swoops ...").
For each held-out clip and each alternative of its group, the learned generator gets
the clip's first and last frame and the caption rewritten to that alternative (all
alternatives of a clip in one batch, same seed); the figure's path in its in-betweens
is then measured from the frames
(:func:`douga.training.cel.measure_alternative`). A model that reads the text follows
the asked-for alternative; one that does not (the ``use_text: false`` ablation) can
only guess, at best once per clip, so it follows about 1/len(group) of the requests.

    python benchmarks/eval_text_conditioning.py data/cel-2k --checkpoint runs/cel-tf-tiny/model
    python benchmarks/eval_text_conditioning.py data/cel-2k \
        --checkpoint runs/cel-tf-notext-tiny/model
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

import numpy as np

from douga.generators import get_generator
from douga.training.cel import GROUPS, measure_alternative, parse_caption, recaption
from douga.training.clips import ClipDataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--max-clips", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--json")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(2)
    gen = get_generator("learned", checkpoint=args.checkpoint, temperature=args.temperature)
    clips = ClipDataset(args.data, args.split)
    asked: dict[str, int] = defaultdict(int)
    followed: dict[str, int] = defaultdict(int)
    chance: dict[str, float] = defaultdict(float)
    t0 = time.perf_counter()
    n = min(args.max_clips, len(clips))
    for i in range(n):
        clip = clips[i]
        group, _ = parse_caption(clip.text)
        alternatives = GROUPS[group]
        first, last = clip.frames[0], clip.frames[-1]
        texts = [recaption(clip.text, alt) for alt in alternatives]
        made = gen.frames_for_captions(first, last, clip.frames.shape[0] - 1, texts,
                                       seed=args.seed + i)
        for alt, frames in zip(alternatives, made, strict=True):
            seen = measure_alternative(np.stack([first, *frames, last]), group)
            asked[group] += 1
            followed[group] += int(seen == alt)
            chance[group] += 1.0 / len(alternatives)
        print(f"{i + 1}/{n} clips", end="\r", flush=True)
    total_asked = sum(asked.values())
    result = {
        "checkpoint": args.checkpoint, "clips": n, "seconds": round(time.perf_counter() - t0, 1),
        "groups": {g: {"asked": asked[g], "followed": followed[g],
                       "rate": followed[g] / asked[g], "chance": chance[g] / asked[g]}
                   for g in sorted(asked)},
        "rate": sum(followed.values()) / max(total_asked, 1),
        "chance": sum(chance.values()) / max(total_asked, 1),
    }
    print(f"{'group':8s} {'asked':>6s} {'followed':>9s} {'rate':>6s} {'chance':>7s}")
    for g, r in result["groups"].items():  # type: ignore[union-attr]
        print(f"{g:8s} {r['asked']:6d} {r['followed']:9d} {r['rate']:6.2f} {r['chance']:7.2f}")
    print(f"{'all':8s} {total_asked:6d} {sum(followed.values()):9d} {result['rate']:6.2f} "
          f"{result['chance']:7.2f}   ({result['seconds']} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
