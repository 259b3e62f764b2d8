"""Speed and memory of one guided optimisation step with the published architectures.

The step's cost does not depend on the weights' values, so without the published
weights (none can be downloaded here) the benchmark builds the same architectures with
random weights: CLIP ViT-B/32 (transformers' default ``CLIPConfig``) and the
``vqgan_imagenet_f16_16384`` VQGAN (its taming yaml: ch 128, ch_mult 1-1-2-2-4, two
residual blocks, attention at 16, 256-d codes, 16384 entries). With ``--clip DIR``
and ``--vqgan NAME.ckpt`` it loads real weights instead.

It times ``GuidedImage.step`` (cutouts -> CLIP image encoder -> spherical loss ->
backward -> Adam, plus decode through the VQGAN for ``vqgan``) and prints iterations
per second and peak memory (CUDA peak allocated on a GPU, else peak RSS).

    python benchmarks/bench_guided.py --size 512 --image vqgan --steps 3
    python benchmarks/bench_guided.py --size 512 --image fourier --steps 5
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import torch


def _random_clip(folder: Path) -> Path:
    """ViT-B/32 with random weights and a character tokenizer (the text side is not timed)."""
    import sys

    from transformers import CLIPConfig, CLIPModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo, for tests/
    from tests.tiny_models import tiny_clip

    tiny_clip(folder)  # for its tokenizer files
    vocab = json.loads((folder / "vocab.json").read_text())
    cfg = CLIPConfig(text_config={"vocab_size": len(vocab),
                                  "bos_token_id": vocab["<|startoftext|>"],
                                  "eos_token_id": vocab["<|endoftext|>"],
                                  "pad_token_id": vocab["<|endoftext|>"]})
    CLIPModel(cfg).save_pretrained(folder)
    return folder


def _imagenet_f16():  # type: ignore[no-untyped-def]
    from douga.models.taming import config_from_taming
    from douga.models.vqgan import VQGAN

    params = {"embed_dim": 256, "n_embed": 16384, "ddconfig": {
        "double_z": False, "z_channels": 256, "resolution": 256, "in_channels": 3,
        "out_ch": 3, "ch": 128, "ch_mult": [1, 1, 2, 2, 4], "num_res_blocks": 2,
        "attn_resolutions": [16], "dropout": 0.0}}
    return VQGAN(config_from_taming(params)).eval().requires_grad_(False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--image", choices=["vqgan", "fourier", "pixel"], default="vqgan")
    ap.add_argument("--cutouts", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--clip", help="a CLIP folder (default: random ViT-B/32)")
    ap.add_argument("--vqgan", help="a VQGAN .ckpt or folder (default: random imagenet f16)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from douga.guided.image import GuidedImage, Target, make_param
    from douga.guided.weights import load_vqgan_any
    from douga.models.clip import ClipGuide

    device = torch.device(args.device)
    clip_dir = Path(args.clip) if args.clip else _random_clip(
        Path(tempfile.mkdtemp(prefix="bench-clip-")) / "clip")
    guide = ClipGuide(clip_dir).to(device)
    vqgan = None
    if args.image == "vqgan":
        vqgan = (load_vqgan_any(args.vqgan) if args.vqgan else _imagenet_f16()).to(device)
    param = make_param(args.image, (args.size, args.size), seed=0, vqgan=vqgan, device=device)
    guided = GuidedImage(guide, param, cutouts=args.cutouts, seed=0)
    target = [Target(guide.encode_text(["a lighthouse in a storm"])[0])]
    guided.step(target, 1)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    guided.step(target, args.steps)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    if device.type == "cuda":
        memory = f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB CUDA peak allocated"
    else:
        memory = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB peak RSS"
    name = (torch.cuda.get_device_name() if device.type == "cuda"
            else f"CPU, {torch.get_num_threads()} threads")
    print(f"{args.image} {args.size}x{args.size}, {args.cutouts} cutouts, {name}: "
          f"{args.steps / seconds:.3f} it/s ({seconds / args.steps:.2f} s/it); {memory}")


if __name__ == "__main__":
    main()
