"""Tiny, randomly initialised learned models for the tests (CPU, well under a second each)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

TINY_VQGAN = {
    "resolution": (16, 16), "channels": 8, "channel_mult": (1, 2, 2),
    "attention_resolutions": (4,), "z_channels": 8, "embedding_dim": 8, "num_embeddings": 32,
    "disc_layers": 2, "disc_channels": 8,
}
TINY_TRANSFORMER = {"n_layer": 1, "n_head": 2, "n_embd": 32, "text_tokens": 1, "max_frames": 32,
                    "dropout": 0.0}


def tiny_checkpoint(folder: Path, *, use_text: bool = False, text_input: str = "sentence") -> Path:
    """An exported learned model (vqgan/ + transformer/) with random weights."""
    import torch

    from douga.models.frame_transformer import FrameTransformer, FrameTransformerConfig
    from douga.models.io import save_model
    from douga.models.vqgan import VQGAN, VQGANConfig

    torch.manual_seed(0)
    vq_cfg = VQGANConfig.from_dict(TINY_VQGAN)
    save_model(VQGAN(vq_cfg), vq_cfg, folder / "vqgan", kind="vqgan")
    tf_cfg = FrameTransformerConfig(token_shape=vq_cfg.token_shape, codebook_size=32,
                                    use_text=use_text,
                                    **{**TINY_TRANSFORMER, "text_input": text_input})
    save_model(FrameTransformer(tf_cfg), tf_cfg, folder / "transformer", kind="frame-transformer")
    return folder


def tiny_clip_set(folder: Path, *, clips: int = 12, frames: int = 8, size: int = 16) -> Path:
    """A clip data set of a square sliding left or right, captioned accordingly."""
    from douga.training.clips import ClipWriter

    rng = np.random.default_rng(0)
    with ClipWriter(folder, height=size, width=size, fps=24) as w:
        for i in range(clips):
            step = 1 if i % 2 else -1
            x0 = int(rng.integers(2, size - 6))
            f = np.zeros((frames, size, size, 3), np.uint8)
            for t in range(frames):
                x = int(np.clip(x0 + step * t, 0, size - 4))
                f[t, 6:10, x:x + 4] = (255, 200, 40)
            split = "test" if i >= clips - 2 else "train"
            w.add(split, f, text="moves right" if step > 0 else "moves left", scene=i)
    return folder


def tiny_clip(folder: Path) -> Path:
    """A CLIP checkpoint folder (save_pretrained layout) with random weights: 32-px images,
    16-d embeddings, a character-level tokenizer."""
    import json
    import string

    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted(set(string.printable) - set(string.whitespace))
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    bos, eos = len(vocab), len(vocab) + 1
    vocab.update({"<|startoftext|>": bos, "<|endoftext|>": eos})
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    cfg = CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": 2,
                     "max_position_embeddings": 64, "bos_token_id": bos, "eos_token_id": eos,
                     "pad_token_id": eos},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        projection_dim=16)
    CLIPModel(cfg).save_pretrained(folder)
    return folder


TINY_WAV2CLIP = {"widths": (8, 16), "blocks": (1, 1), "projection": (16, 16)}


def tiny_wav2clip_checkpoint(path: Path) -> Path:
    """A Wav2CLIP checkpoint in the published (Lightning) layout, tiny and random, with a
    trainer callback pickled by class as Lightning does."""
    import torch

    from douga.models.wav2clip import Wav2Clip, Wav2ClipConfig

    torch.manual_seed(0)
    model = Wav2Clip(Wav2ClipConfig(**TINY_WAV2CLIP))  # type: ignore[arg-type]
    state = dict(model.state_dict())
    state["audio_encoder.fc.weight"] = torch.zeros(309, TINY_WAV2CLIP["widths"][-1])  # unused head
    state["audio_encoder.fc.bias"] = torch.zeros(309)
    torch.save({"state_dict": state, "epoch": 1,
                "callbacks": {_Callback: {"best": 0.5}}}, path)
    return path


class _Callback:
    """Stands for a trainer class a research checkpoint pickles (must not be needed to load)."""


class HParams(dict):  # type: ignore[type-arg]
    """A dict subclass, as Lightning pickles its hyper-parameters (AttributeDict)."""
