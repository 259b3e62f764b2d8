"""Stage 2: train the frame transformer on VQ-GAN tokens (``douga train transformer CONFIG``).

Every clip of the data set is tokenised once by the trained, frozen VQ-GAN. A training
example is one frame i (1 <= i <= T-2) of a clip of T frames: the model reads the
caption's sentence vector, the remaining-frame count T-1-i, the last frame's tokens
and the M frames before i, and is scored by token cross-entropy on frame i (plus,
optionally, a perceptual loss on the frame decoded from its predicted token
distribution). GANime's schedule: teacher forcing, then from
``self_feed_after_epoch`` on the previous frame is the model's own prediction of it,
so the model learns to continue from its own frames as it must at inference; the
learning rate warms up linearly, then decays on a cosine.

The exported checkpoint ``OUT/model`` holds ``vqgan/`` and ``transformer/`` and is
what ``--generator learned --checkpoint OUT/model`` reads.
"""

from __future__ import annotations

import hashlib
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from douga.errors import InputError
from douga.models.frame_transformer import (
    FrameTransformer,
    FrameTransformerConfig,
    generate_tokens,
)
from douga.models.frames import to_tensor, to_uint8
from douga.models.io import config_from_dict, save_model
from douga.models.perceptual import PerceptualLoss
from douga.models.vqgan import VQGAN, load_vqgan
from douga.training.clips import ClipDataset
from douga.training.config import TransformerTrainConfig, load_train_config
from douga.training.loop import (
    Eta,
    MetricLog,
    ProgressFn,
    make_accelerator,
    plot_curves,
    resume,
    save_checkpoint,
    save_grid,
)


@dataclass
class TokenClips:
    """A split tokenised: per clip (T, L) int64 tokens and its caption encoding."""

    tokens: list[np.ndarray]
    text: torch.Tensor  # (n_clips, *text_shape) caption encodings; zeros when text is off
    examples: np.ndarray  # (n, 2): clip index, frame index i (1..T-2)

    @classmethod
    def from_flat(cls, flat: np.ndarray, lengths: list[int] | np.ndarray,
                  text: torch.Tensor) -> TokenClips:
        """From the (sum T, L) tokens of all clips end to end and each clip's length T."""
        tokens = np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []
        examples = [(c, i) for c, n in enumerate(lengths) for i in range(1, int(n) - 1)]
        return cls(tokens, text, np.asarray(examples, dtype=np.int64).reshape(-1, 2))

    def batch(self, rows: torch.Tensor, n_prev: int) -> dict[str, torch.Tensor]:
        """Model inputs for the examples ``rows``."""
        clip_i = self.examples[rows.cpu().numpy()]
        last, prev, target, remaining = [], [], [], []
        for c, i in clip_i:
            tok = self.tokens[c]
            last.append(tok[-1])
            prev.append(np.stack([tok[max(i - 1 - j, 0)] for j in range(n_prev)]))
            target.append(tok[i])
            remaining.append(tok.shape[0] - 1 - i)
        return {
            "text": self.text[clip_i[:, 0]],
            "remaining": torch.as_tensor(np.asarray(remaining), dtype=torch.long),
            "last": torch.as_tensor(np.stack(last), dtype=torch.long),
            "prev": torch.as_tensor(np.stack(prev), dtype=torch.long),
            "target": torch.as_tensor(np.stack(target), dtype=torch.long),
        }


@torch.no_grad()
def tokenize_split(clips: ClipDataset, vqgan: VQGAN, text: torch.Tensor, *,
                   batch: int = 256) -> TokenClips:
    """Tokenise every clip of a split with the VQ-GAN (frames batched across clips)."""
    lengths = [clip.frames.shape[0] for clip in clips]
    parts: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    n_pending = 0

    def flush() -> None:
        nonlocal pending, n_pending
        if pending:
            frames = to_tensor(np.concatenate(pending))
            parts.append(vqgan.tokenize(frames).flatten(1).numpy())  # (n, L)
        pending, n_pending = [], 0

    for clip in clips:
        pending.append(clip.frames)
        n_pending += clip.frames.shape[0]
        if n_pending >= batch:
            flush()
    flush()
    flat = np.concatenate(parts) if parts else np.zeros((0, 1), np.int64)
    return TokenClips.from_flat(flat, lengths, text)


def _cached_tokens(out: Path, vqgan_folder: Path, clips: ClipDataset, vqgan: VQGAN,
                   model_cfg: FrameTransformerConfig) -> TokenClips:
    """Tokenise the split once per run (kept in ``out/tokens.npz``, keyed by the VQ-GAN)."""
    key = hashlib.sha1((vqgan_folder / "model.safetensors").read_bytes()).hexdigest()
    key += f"|{clips.directory.resolve()}|{len(clips)}"
    key += f"|{model_cfg.use_text}|{model_cfg.text_encoder}|{model_cfg.text_words}"
    path = out / "tokens.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) == key:
                return TokenClips.from_flat(z["tokens"], z["lengths"],
                                            torch.from_numpy(z["text"]))
    data = tokenize_split(clips, vqgan, _texts(clips, model_cfg))
    tmp = out / "tokens.tmp.npz"
    np.savez(tmp, key=np.asarray(key), lengths=np.asarray([t.shape[0] for t in data.tokens]),
             tokens=np.concatenate(data.tokens), text=data.text.numpy())
    tmp.replace(path)
    return data


def _texts(clips: ClipDataset, model_cfg: FrameTransformerConfig) -> torch.Tensor:
    if not model_cfg.use_text:
        return torch.zeros(len(clips), *model_cfg.text_shape)
    from douga.models.text_encoder import TextEncoder

    encoder = TextEncoder(model_cfg.text_encoder)
    if encoder.dim != model_cfg.text_dim:
        raise InputError(f"text encoder {model_cfg.text_encoder}: {encoder.dim}-d vectors; "
                         f"model.text_dim is {model_cfg.text_dim}")
    return encoder([c.text for c in clips], words=model_cfg.text_words)


def _lr(step: int, total: int, tr: Any) -> float:
    warm = max(1, int(tr.warmup * total))
    if step < warm:
        return float(tr.lr_start + (tr.lr_max - tr.lr_start) * step / warm)
    progress = (step - warm) / max(1, total - warm)
    return float(tr.lr_start + 0.5 * (tr.lr_max - tr.lr_start) * (1 + math.cos(math.pi * progress)))


def train_transformer(config_path: str | Path, *, progress: ProgressFn | None = None,
                      max_steps: int | None = None) -> Path:
    """Train (or resume) the frame transformer; returns the learned checkpoint ``OUT/model``."""
    source = str(config_path)
    cfg = load_train_config(config_path, TransformerTrainConfig)
    tr = cfg.train
    vqgan = load_vqgan(cfg.vqgan)
    vq_cfg = vqgan.config
    values = {**cfg.model, "token_shape": vq_cfg.token_shape,
              "codebook_size": vq_cfg.num_embeddings}
    model_cfg = config_from_dict(FrameTransformerConfig, values, source=source, prefix="model.")
    train_clips = ClipDataset(cfg.data, "train")
    if len(train_clips) == 0:
        raise InputError(f"{cfg.data}: the train split has no clips")
    if (train_clips.height, train_clips.width) != tuple(vq_cfg.resolution):
        raise InputError(f"{cfg.data}: frames are {train_clips.height}x{train_clips.width}; "
                         f"the VQ-GAN {cfg.vqgan} was trained on {list(vq_cfg.resolution)}")
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)

    acc = make_accelerator(tr)
    data = _cached_tokens(out, cfg.vqgan, train_clips, vqgan, model_cfg)
    if len(data.examples) == 0:
        raise InputError(f"{cfg.data}: no clip has 3 or more frames")
    model = FrameTransformer(model_cfg)
    if cfg.gpt2 is not None:
        model.load_gpt2(cfg.gpt2)
    opt = torch.optim.AdamW(model.parameters(), lr=tr.lr_start, weight_decay=tr.weight_decay)
    indices = TensorDataset(torch.arange(len(data.examples)))
    loader = DataLoader(indices, batch_size=tr.batch_size, shuffle=True,
                        drop_last=len(data.examples) > tr.batch_size)
    model, opt, loader = acc.prepare(model, opt, loader)
    vqgan = vqgan.to(acc.device)
    perceptual = PerceptualLoss("msssim") if tr.perceptual_weight > 0 else None
    total = tr.epochs * len(loader)
    step = int(resume(acc, out).get("step", 0))
    shutil.copyfile(config_path, out / "config.yaml")  # the run is valid: record it
    stop = total if max_steps is None else min(total, step + max_steps)
    log = MetricLog(out, enabled=acc.is_main_process)
    eta = Eta(total, step)
    raw: Any = acc.unwrap_model(model)

    while step < stop:
        epoch = step // len(loader)
        self_feed = tr.self_feed_after_epoch is not None and epoch >= tr.self_feed_after_epoch
        for (rows,) in loader:
            if step >= stop:
                break
            b = {k: v.to(acc.device) for k, v in data.batch(rows, model_cfg.n_prev).items()}
            if self_feed:
                b["prev"] = _own_previous(raw, data, rows, b)
            for group in opt.param_groups:
                group["lr"] = _lr(step, total, tr)
            ce, logits = raw.loss(b["text"], b["remaining"], b["last"], b["prev"], b["target"])
            loss = ce
            if perceptual is not None:
                soft = F.softmax(logits, dim=-1) @ vqgan.quantizer.codebook  # (B, L, D)
                h, w = vq_cfg.token_shape
                decoded = vqgan.decode(soft.transpose(1, 2).reshape(-1, soft.shape[-1], h, w))
                real = vqgan.decode_tokens(b["target"].view(-1, h, w))
                loss = loss + tr.perceptual_weight * perceptual(decoded, real)
            opt.zero_grad(set_to_none=True)
            acc.backward(loss)
            acc.clip_grad_norm_(model.parameters(), tr.clip_norm)
            opt.step()
            step += 1
            if step % tr.log_every == 0 or step == stop:
                accuracy = float((logits.argmax(-1) == b["target"]).float().mean())
                log.write(step, {"ce": ce.item(), "loss": loss.item(), "token_accuracy": accuracy,
                                 "lr": _lr(step, total, tr), "epoch": epoch,
                                 "self_feed": float(self_feed)})
            if progress is not None:
                progress(f"epoch {epoch + 1}/{tr.epochs} ce {ce.item():.3f} {eta.text(step)}",
                         step / total)
            if acc.is_main_process and (step % tr.sample_every == 0 or step == stop):
                _sample(raw, vqgan, data, out / "samples" / f"step{step:07d}.png")
                plot_curves(out, ("ce", "token_accuracy", "lr"))
            if step % tr.checkpoint_every == 0 or step == stop:
                save_checkpoint(acc, out, step)
    if acc.is_main_process:
        export(raw, cfg.vqgan, out / "model")
    acc.wait_for_everyone()
    return out / "model"


@torch.no_grad()
def _own_previous(model: FrameTransformer, data: TokenClips, rows: torch.Tensor,
                  b: dict[str, torch.Tensor]) -> torch.Tensor:
    """The previous frame as the model itself predicts it (greedy, one parallel pass)."""
    clip_i = data.examples[rows.cpu().numpy()]
    earlier = np.stack([clip_i[:, 0], np.maximum(clip_i[:, 1] - 1, 1)], axis=1)
    sub = TokenClips(data.tokens, data.text, earlier)
    e = {k: v.to(b["prev"].device) for k, v in sub.batch(torch.arange(len(earlier)),
                                                          model.config.n_prev).items()}
    was = model.training
    model.eval()
    guess = model(e["text"], e["remaining"], e["last"], e["prev"], e["target"]).argmax(-1)
    model.train(was)
    prev = b["prev"].clone()
    own = torch.as_tensor(clip_i[:, 1] > 1, device=prev.device)  # frame 0 is always given
    prev[own, 0] = guess[own]
    return prev


@torch.no_grad()
def _sample(model: FrameTransformer, vqgan: VQGAN, data: TokenClips, path: Path) -> None:
    """Rows of (real, generated) frames for the first two clips."""
    was = model.training
    model.eval()
    h, w = vqgan.config.token_shape
    rows = []
    for c in range(min(2, len(data.tokens))):
        tok = torch.as_tensor(data.tokens[c])
        made = generate_tokens(model, tok[:1], tok[-1:], tok.shape[0] - 2, data.text[c:c + 1],
                               temperature=0.0)[0]
        rows.append(to_uint8(vqgan.decode_tokens(tok.view(-1, h, w))))
        full = torch.cat([tok[:1], made, tok[-1:]])
        rows.append(to_uint8(vqgan.decode_tokens(full.view(-1, h, w))))
    model.train(was)
    save_grid(rows, path)


def export(model: FrameTransformer, vqgan_folder: Path, out: Path) -> Path:
    """Write the learned generator's checkpoint: ``out/vqgan`` and ``out/transformer``."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "vqgan"
    if target.resolve() != Path(vqgan_folder).resolve():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(vqgan_folder, target)
    save_model(model, model.config, out / "transformer", kind="frame-transformer")
    return out
