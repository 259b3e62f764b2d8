"""Stage 1: train the VQ-GAN on the frames of a clip data set (``douga train vqgan CONFIG``).

Generator loss (GANime section 3.2, after Esser et al. 2021)::

    L1(x, x̂) + w_p * perceptual(x, x̂)            reconstruction
    + commitment                                    quantiser (EMA codebook)
    + λ * d_weight * hinge-G(D(x̂))                  adversarial, from ``disc_start`` on
    + w_fm * feature matching(D(x), D(x̂))          from ``disc_start`` on

λ is the adaptive weight (ratio of gradient norms at the decoder's last layer). The
PatchGAN discriminator is trained with the hinge loss from ``disc_start`` on.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from douga.errors import InputError
from douga.models.frames import to_tensor, to_uint8
from douga.models.io import config_from_dict, save_model
from douga.models.perceptual import PerceptualLoss
from douga.models.vqgan import (
    VQGAN,
    PatchDiscriminator,
    VQGANConfig,
    adaptive_gan_weight,
    codebook_usage,
    hinge_d_loss,
)
from douga.training.clips import ClipDataset
from douga.training.config import VQGANTrainConfig, load_train_config
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


class FrameDataset(Dataset[torch.Tensor]):
    """Every frame of every clip of a split, as (3, H, W) tensors in [-1, 1]."""

    def __init__(self, clips: ClipDataset) -> None:
        self.frames = np.concatenate([c.frames for c in clips]) if len(clips) else np.zeros(0)

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def __getitem__(self, i: int) -> torch.Tensor:
        return to_tensor(self.frames[i])


def _model_config(cfg: VQGANTrainConfig, clips: ClipDataset, source: str) -> VQGANConfig:
    values = dict(cfg.model)
    values.setdefault("resolution", (clips.height, clips.width))
    model_cfg = config_from_dict(VQGANConfig, values, source=source, prefix="model.")
    side = min(model_cfg.resolution)
    if side < 4 * 2**model_cfg.disc_layers:  # the discriminator's patches would vanish
        most = max(0, (side // 4).bit_length() - 1)
        raise InputError(f"{source}: model.disc_layers {model_cfg.disc_layers}: too many for "
                         f"{side}-pixel frames; expected at most {most}")
    if tuple(model_cfg.resolution) != (clips.height, clips.width):
        raise InputError(
            f"{source}: model.resolution {list(model_cfg.resolution)}; the data set's frames "
            f"are {clips.height}x{clips.width} (height x width)"
        )
    return model_cfg


def train_vqgan(config_path: str | Path, *, progress: ProgressFn | None = None,
                max_steps: int | None = None) -> Path:
    """Train (or resume) a VQ-GAN; returns the exported model folder ``OUT/model``.

    ``max_steps`` stops early (for smoke tests) without changing the schedule.
    """
    source = str(config_path)
    cfg = load_train_config(config_path, VQGANTrainConfig)
    tr = cfg.train
    train_clips = ClipDataset(cfg.data, "train")
    if len(train_clips) == 0:
        raise InputError(f"{cfg.data}: the train split has no clips")
    model_cfg = _model_config(cfg, train_clips, source)
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)

    acc = make_accelerator(tr)
    model = VQGAN(model_cfg)
    disc = PatchDiscriminator(model_cfg.disc_layers, model_cfg.disc_channels)
    perceptual = PerceptualLoss(tr.perceptual, weights=tr.vgg16_weights).to(acc.device)
    opt_g = torch.optim.Adam(model.parameters(), lr=tr.lr, betas=tr.betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=tr.disc_lr, betas=tr.betas)
    data = FrameDataset(train_clips)
    loader = DataLoader(data, batch_size=tr.batch_size, shuffle=True,
                        drop_last=len(data) > tr.batch_size, num_workers=tr.num_workers)
    model, disc, opt_g, opt_d, loader = acc.prepare(model, disc, opt_g, opt_d, loader)
    step = int(resume(acc, out).get("step", 0))
    shutil.copyfile(config_path, out / "config.yaml")  # the run is valid: record it
    log = MetricLog(out, enabled=acc.is_main_process)
    eta = Eta(tr.steps, step)
    fixed = torch.stack([data[i] for i in np.linspace(0, len(data) - 1, 8).astype(int)])
    stop = tr.steps if max_steps is None else min(tr.steps, step + max_steps)
    raw: Any = acc.unwrap_model(model)

    while step < stop:
        for x in loader:
            if step >= stop:
                break
            gan_on = step >= tr.disc_start
            recon, tokens, commit = model(x)
            rec = F.l1_loss(recon, x) + tr.perceptual_weight * perceptual(recon, x)
            loss = rec + commit
            values: dict[str, float] = {"rec": rec.item(), "commit": commit.item()}
            if gan_on:
                fake_logits, fake_feats = disc(recon)
                g_loss = -fake_logits.mean()
                lam = adaptive_gan_weight(rec, g_loss, raw.decoder.last_layer)
                loss = loss + tr.disc_weight * lam * g_loss
                if tr.feature_matching_weight > 0:
                    with torch.no_grad():
                        _, real_feats = disc(x)
                    fm = sum(F.l1_loss(f, r) for f, r in zip(fake_feats, real_feats, strict=True))
                    loss = loss + tr.feature_matching_weight * fm
                values.update(g=g_loss.item(), lam=lam.item())
            opt_g.zero_grad(set_to_none=True)
            acc.backward(loss)
            acc.clip_grad_norm_(model.parameters(), tr.clip_norm)
            opt_g.step()
            if gan_on:
                real_logits, _ = disc(x)
                fake_logits, _ = disc(recon.detach())
                d_loss = hinge_d_loss(real_logits, fake_logits)
                opt_d.zero_grad(set_to_none=True)
                acc.backward(d_loss)
                acc.clip_grad_norm_(disc.parameters(), tr.clip_norm)
                opt_d.step()
                values["d"] = d_loss.item()
            step += 1
            if step % tr.log_every == 0 or step == stop:
                used, perplexity = codebook_usage(tokens, model_cfg.num_embeddings)
                values.update(codebook_usage=used, perplexity=perplexity, loss=loss.item())
                log.write(step, values)
            if progress is not None:
                progress(f"step {step}/{tr.steps} rec {values['rec']:.3f} {eta.text(step)}",
                         step / tr.steps)
            if acc.is_main_process and (step % tr.sample_every == 0 or step == stop):
                _sample(raw, fixed.to(acc.device), out / "samples" / f"step{step:07d}.png")
                plot_curves(out, ("rec", "commit", "codebook_usage", "d"))
            if step % tr.checkpoint_every == 0 or step == stop:
                save_checkpoint(acc, out, step)
    if acc.is_main_process:
        save_model(raw, model_cfg, out / "model", kind="vqgan")
    acc.wait_for_everyone()
    return out / "model"


@torch.no_grad()
def _sample(model: VQGAN, x: torch.Tensor, path: Path) -> None:
    was = model.training
    model.eval()
    recon, _, _ = model(x)
    model.train(was)
    save_grid([to_uint8(x), to_uint8(recon)], path)
