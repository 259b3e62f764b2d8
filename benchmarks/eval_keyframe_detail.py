"""What drawing the learned in-betweens with the keyframes' own pixels adds.

For each held-out clip, the learned generator in-betweens the clip's first and last
frame with the clip's caption twice, from the same tokens (same seed): once as the
VQ-GAN decodes them (``keep_detail=False``) and once redrawn with the keyframes'
pixels, moved as the model moved them, wherever they fit
(:func:`douga.generators.learned.draw_with_keyframes`, the default). Both are scored
against the true frames (PSNR, SSIM, the share with SSIM >= 0.9).

    python benchmarks/eval_keyframe_detail.py data/cel-2k --checkpoint runs/cel-tf-tiny/model
    python benchmarks/eval_keyframe_detail.py data/digits-2k \
        --checkpoint runs/digits-tf-tiny/model
"""

from __future__ import annotations

import argparse

import numpy as np

from douga.generators.learned import LearnedGenerator
from douga.metrics.inbetween import psnr, ssim
from douga.training.clips import ClipDataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="a clip data set; its test split is scored")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--max-clips", type=int, default=40)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(2)
    clips = ClipDataset(args.data, "test")
    n = min(args.max_clips, len(clips))
    for keep in (False, True):
        gen = LearnedGenerator(args.checkpoint, keep_detail=keep)
        scores = []
        for i in range(n):
            clip = clips[i]
            frames = clip.frames
            made = gen.frames_for_captions(frames[0], frames[-1], len(frames) - 1,
                                           [clip.text], seed=i)[0]
            scores += [(psnr(t, m), ssim(t, m)) for t, m in zip(frames[1:-1], made, strict=True)]
        p, s = np.array(scores).T
        print(f"keep_detail={keep!s:5s}  {len(p)} in-betweens of {n} clips: "
              f"PSNR {p.mean():.2f} dB  SSIM {s.mean():.3f}  SSIM >= 0.9: {np.mean(s >= 0.9):.1%}")


if __name__ == "__main__":
    main()
