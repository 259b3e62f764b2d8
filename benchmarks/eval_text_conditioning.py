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

"Followed" asks for the whole path. A weaker model may still lean the right way, so
the script also compares, within each clip, the paths made for two opposite captions
(:data:`douga.training.cel.OPPOSITES`: hop against swoop, down against up, right
against left, clockwise against counterclockwise) on the number that tells them apart
(:func:`douga.training.cel.path_numbers`). Where the text steers, the difference has
the caption's sign more often than not; where it does not, each sign is a coin flip,
and the one-sided sign test says how likely the count is by chance.

"Path error" is how far, in pixels, the figure's centroid in the in-betweens is from
where it is in the true clip of the asked-for alternative (the cel generator redrawn
from the data set's seed), on average over the in-betweens: it also sees the timing,
which the remaining-frame counter is for (the ``use_counter: false`` ablation).

    python benchmarks/eval_text_conditioning.py data/cel-2k --checkpoint runs/cel-tf-tiny/model
    python benchmarks/eval_text_conditioning.py data/cel-2k \
        --checkpoint runs/cel-tf-notext-tiny/model
    python benchmarks/eval_text_conditioning.py data/cel-2k \
        --checkpoint runs/cel-tf-nocounter-tiny/model
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

import numpy as np

from douga.generators import get_generator
from douga.generators.learned import LearnedGenerator
from douga.training.cel import (
    GROUPS,
    OPPOSITES,
    alternative_of,
    figure_track,
    make_cel_clip,
    parse_caption,
    path_numbers,
    recaption,
    render_cel,
)
from douga.training.clips import ClipDataset


def _signs(diffs: list[float]) -> dict[str, float]:
    """How many differences there are, how many are not 0, how many have the caption's
    sign (positive), and the sign test's p-value over those that are not 0."""
    from scipy.stats import binomtest

    differ, positive = sum(x != 0 for x in diffs), sum(x > 0 for x in diffs)
    p = binomtest(positive, differ, alternative="greater").pvalue if differ else 1.0
    return {"n": len(diffs), "differ": differ, "caption_sign": positive, "p": float(p)}


def contrasts(numbers: dict[str, dict[str, float]], group: str) -> list[tuple[str, float]]:
    """Per contrast of the group: its name and the difference (alternative - opposite)."""
    out = []
    for g, alt, opp, key in OPPOSITES:
        if g == group and key in numbers.get(alt, {}) and key in numbers.get(opp, {}):
            out.append((f"{g}: {alt} - {opp} ({key})", numbers[alt][key] - numbers[opp][key]))
    return out


def path_error(made: np.ndarray, truth: np.ndarray) -> float:
    """Mean distance (px) between two figure tracks (T, 2) (:func:`figure_track`), over
    the in-betweens (NaN where the made track has no figure on any of them)."""
    d = np.hypot(*(made - truth)[1:-1].T)
    return float(np.nanmean(d)) if np.isfinite(d).any() else float("nan")


def round_trip(gen: LearnedGenerator, frames: np.ndarray) -> np.ndarray:
    """The frames (T, H, W, 3) through the learned model's VQ-GAN: tokens and back, the
    best any transformer writing its tokens can draw them."""
    import torch

    from douga.models.frames import to_tensor, to_uint8

    with torch.no_grad():
        tokens = gen.vqgan.tokenize(to_tensor(frames).to(gen.device))
        return to_uint8(gen.vqgan.decode_tokens(tokens))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--max-clips", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--json")
    ap.add_argument("--grid", help="PNG: the paths drawn for each caption of the first "
                    "--grid-clips clips of the travel and return groups, one row per caption")
    ap.add_argument("--grid-clips", type=int, default=2)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(2)
    gen = get_generator("learned", checkpoint=args.checkpoint, temperature=args.temperature)
    assert isinstance(gen, LearnedGenerator)
    clips = ClipDataset(args.data, args.split)
    info = clips.meta["info"]
    asked: dict[str, int] = defaultdict(int)
    followed: dict[str, int] = defaultdict(int)
    chance: dict[str, float] = defaultdict(float)
    diffs: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[float]] = defaultdict(list)
    hold_errors: dict[str, list[float]] = defaultdict(list)  # holding the first frame
    floor_errors: dict[str, list[float]] = defaultdict(list)  # the truth through the VQ-GAN
    rows: dict[str, list[np.ndarray]] = defaultdict(list)  # group -> grid rows
    t0 = time.perf_counter()
    n = min(args.max_clips, len(clips))
    for i in range(n):
        clip = clips[i]
        group, _ = parse_caption(clip.text)
        alternatives = GROUPS[group]
        first, last = clip.frames[0], clip.frames[-1]
        drawn = make_cel_clip(np.random.default_rng([info["seed"], clip.scene]),
                              frames=info["frames"], size=info["size"])
        if not np.array_equal(drawn.frames, clip.frames):
            raise SystemExit(f"{args.data}: {args.split} clip {i} is not what the cel "
                             f"generator draws for seed {info['seed']}, scene {clip.scene}")
        held = np.repeat(figure_track(first[None]), len(clip.frames), axis=0)  # hold A
        texts = [recaption(clip.text, alt) for alt in alternatives]
        made = gen.frames_for_captions(first, last, clip.frames.shape[0] - 1, texts,
                                       seed=args.seed + i)
        numbers = {}
        shown = len(rows[group]) < args.grid_clips * len(alternatives)
        for alt, frames in zip(alternatives, made, strict=True):
            clip_frames = np.stack([first, *frames, last])
            if shown and group in ("travel", "return"):
                rows[group].append(clip_frames[[*range(0, len(clip_frames) - 1, 2), -1]])
            numbers[alt] = path_numbers(clip_frames, group)
            seen = alternative_of(numbers[alt], group, side=clip_frames.shape[2])
            truth = render_cel(drawn.scene, alt, frames=len(clip_frames))
            true_track = figure_track(truth)
            errors[group].append(path_error(figure_track(clip_frames), true_track))
            hold_errors[group].append(path_error(held, true_track))
            floor_errors[group].append(path_error(figure_track(round_trip(gen, truth)),
                                                  true_track))
            asked[group] += 1
            followed[group] += int(seen == alt)
            chance[group] += 1.0 / len(alternatives)
        for name, d in contrasts(numbers, group):
            diffs[name].append(d)
        print(f"{i + 1}/{n} clips", end="\r", flush=True)
    total_asked = sum(asked.values())
    error_sets = {"path_error_px": errors, "hold_path_error_px": hold_errors,
                  "vqgan_path_error_px": floor_errors}
    result = {
        "checkpoint": args.checkpoint, "clips": n, "seconds": round(time.perf_counter() - t0, 1),
        "groups": {g: {"asked": asked[g], "followed": followed[g],
                       "rate": followed[g] / asked[g], "chance": chance[g] / asked[g],
                       **{k: float(np.nanmean(v[g])) for k, v in error_sets.items()},
                       "no_figure": int(np.isnan(errors[g]).sum())}
                   for g in sorted(asked)},
        "rate": sum(followed.values()) / max(total_asked, 1),
        **{k: float(np.nanmean([e for es in v.values() for e in es]))
           for k, v in error_sets.items()},
        "chance": sum(chance.values()) / max(total_asked, 1),
        "contrasts": {name: _signs(d) | {"mean": float(np.mean(d)),
                                         "median": float(np.median(d))}
                      for name, d in sorted(diffs.items())},
        "contrast_sign": _signs([x for d in diffs.values() for x in d]),
    }
    print(f"{'group':8s} {'asked':>6s} {'followed':>9s} {'rate':>6s} {'chance':>7s} "
          f"{'path error':>10s} {'(hold)':>9s} {'(VQ-GAN)':>9s}")
    for g, r in result["groups"].items():
        print(f"{g:8s} {r['asked']:6d} {r['followed']:9d} {r['rate']:6.2f} {r['chance']:7.2f} "
              f"{r['path_error_px']:7.2f} px {r['hold_path_error_px']:6.2f} px "
              f"{r['vqgan_path_error_px']:6.2f} px")
    print(f"{'all':8s} {total_asked:6d} {sum(followed.values()):9d} {result['rate']:6.2f} "
          f"{result['chance']:7.2f} {result['path_error_px']:7.2f} px "
          f"{result['hold_path_error_px']:6.2f} px {result['vqgan_path_error_px']:6.2f} px   "
          f"({result['seconds']} s)")
    print(f"\n{'contrast':44s} {'clips':>5s} {'differ':>6s} {'caption sign':>12s} "
          f"{'median':>8s} {'p':>8s}")
    table = [*result["contrasts"].items(), ("all", result["contrast_sign"])]
    for name, r in table:
        median = f"{r['median']:8.2f}" if "median" in r else " " * 8
        print(f"{name:44s} {r['n']:5d} {r['differ']:6d} {r['caption_sign']:12d} {median} "
              f"{r['p']:8.2g}")
    if args.grid:
        from pathlib import Path

        from douga.training.loop import save_grid

        save_grid(rows["travel"] + rows["return"], Path(args.grid))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
