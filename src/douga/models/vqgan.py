"""VQ-GAN (GANime's stage 1): a convolutional autoencoder with a discrete codebook.

An image (B, 3, H, W) in [-1, 1] is encoded to a grid of vectors (B, D, H/f, W/f),
f = 2**(len(channel_mult) - 1); each vector is replaced by its nearest codebook
entry, so a frame becomes H/f * W/f integer tokens for the stage-2 transformer; the
decoder turns (quantised) vectors back into an image. In the MAD framework's terms
the encoder is the image encoder and the adversarially trained decoder the GAN frame
generator.

Architecture after Esser et al. (2021, taming transformers) as GANime uses it:
residual blocks with GroupNorm and swish, self-attention at chosen feature
resolutions, strided-conv down-sampling, nearest-neighbour up-sampling followed by a
convolution (no transposed convolutions, so no checkerboard artefacts).

The quantiser keeps its codebook as an exponential moving average of the encoder
outputs assigned to each code (van den Oord et al. 2017, appendix), initialised by
k-means on the first batch, and restarts codes that fall out of use on random
encoder outputs, the usual remedies for codebook collapse.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from douga.models.io import Range, check_config, load_config, load_weights

_RANGES: dict[str, Range] = {
    "resolution": (8, 4096), "channels": (1, 4096), "channel_mult": (1, 64),
    "num_res_blocks": (1, 64), "attention_resolutions": (1, 4096), "z_channels": (1, 4096),
    "embedding_dim": (1, 4096), "num_embeddings": (2, 2**20), "beta": (0, 100),
    "ema_decay": (0, 1), "dead_code_threshold": (0, None), "dropout": (0, 1),
    "disc_layers": (1, 10), "disc_channels": (1, 4096),
}


@dataclass(frozen=True)
class VQGANConfig:
    """Shape of a VQ-GAN; saved as ``config.json`` beside the weights.

    ``resolution`` is (height, width) of the frames; ``attention_resolutions`` lists
    feature-map heights at which self-attention is used.
    """

    resolution: tuple[int, int] = (64, 64)
    channels: int = 64
    channel_mult: tuple[int, ...] = (1, 2, 2, 4)
    num_res_blocks: int = 1
    attention_resolutions: tuple[int, ...] = (8,)
    z_channels: int = 128
    embedding_dim: int = 64
    num_embeddings: int = 1024
    beta: float = 0.25  # commitment weight
    ema_decay: float = 0.99
    dead_code_threshold: float = 0.03  # EMA use count below which a code is restarted
    dropout: float = 0.0
    disc_layers: int = 3
    disc_channels: int = 64

    def __post_init__(self) -> None:
        check_config(self, _RANGES)
        if len(self.resolution) != 2 or not self.channel_mult:
            raise ValueError(f"resolution {list(self.resolution)}, channel_mult "
                             f"{list(self.channel_mult)}: expected [height, width] and at "
                             "least one level")
        h, w = self.resolution
        f = self.downsample
        if h % f or w % f:
            raise ValueError(f"resolution {h}x{w}: expected multiples of {f} (2**levels)")

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.channel_mult) - 1)

    @property
    def token_shape(self) -> tuple[int, int]:
        """(h, w) of a frame's token grid."""
        return self.resolution[0] // self.downsample, self.resolution[1] // self.downsample

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["resolution"] = list(self.resolution)
        d["channel_mult"] = list(self.channel_mult)
        d["attention_resolutions"] = list(self.attention_resolutions)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VQGANConfig:
        d = dict(d)
        for key in ("resolution", "channel_mult", "attention_resolutions"):
            if isinstance(d.get(key), list):
                d[key] = tuple(d[key])
        return cls(**d)


def _norm(channels: int) -> nn.GroupNorm:
    groups = math.gcd(32, channels)
    return nn.GroupNorm(groups, channels, eps=1e-6, affine=True)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = _norm(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2 = _norm(c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over the positions of a feature map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = _norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)  # (B, C, HW) each
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2)[:, None], k.transpose(1, 2)[:, None], v.transpose(1, 2)[:, None]
        )  # (B, 1, HW, C)
        return x + self.proj(out[:, 0].transpose(1, 2).reshape(b, c, h, w))


class Downsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # asymmetric pad: exact halving


class Upsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Encoder(nn.Module):
    """(B, 3, H, W) -> (B, z_channels, H/f, W/f)."""

    def __init__(self, cfg: VQGANConfig) -> None:
        super().__init__()
        ch, mult = cfg.channels, (1, *cfg.channel_mult)
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.down = nn.ModuleList()
        height = cfg.resolution[0]
        for level in range(len(cfg.channel_mult)):
            c_in, c_out = ch * mult[level], ch * mult[level + 1]
            blocks: list[nn.Module] = []
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(c_in, c_out, cfg.dropout))
                c_in = c_out
                if height in cfg.attention_resolutions:
                    blocks.append(AttnBlock(c_out))
            if level != len(cfg.channel_mult) - 1:
                blocks.append(Downsample(c_out))
                height //= 2
            self.down.append(nn.Sequential(*blocks))
        c = ch * cfg.channel_mult[-1]
        self.mid = nn.Sequential(
            ResBlock(c, c, cfg.dropout), AttnBlock(c), ResBlock(c, c, cfg.dropout)
        )
        self.norm_out = _norm(c)
        self.conv_out = nn.Conv2d(c, cfg.z_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for stage in self.down:
            h = stage(h)
        h = self.mid(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    """(B, z_channels, H/f, W/f) -> (B, 3, H, W), unbounded (trained towards [-1, 1])."""

    def __init__(self, cfg: VQGANConfig) -> None:
        super().__init__()
        ch = cfg.channels
        c = ch * cfg.channel_mult[-1]
        height = cfg.token_shape[0]
        self.conv_in = nn.Conv2d(cfg.z_channels, c, 3, padding=1)
        self.mid = nn.Sequential(
            ResBlock(c, c, cfg.dropout), AttnBlock(c), ResBlock(c, c, cfg.dropout)
        )
        self.up = nn.ModuleList()
        for level in reversed(range(len(cfg.channel_mult))):
            c_out = ch * cfg.channel_mult[level]
            blocks: list[nn.Module] = []
            for _ in range(cfg.num_res_blocks + 1):
                blocks.append(ResBlock(c, c_out, cfg.dropout))
                c = c_out
                if height in cfg.attention_resolutions:
                    blocks.append(AttnBlock(c))
            if level != 0:
                blocks.append(Upsample(c))
                height *= 2
            self.up.append(nn.Sequential(*blocks))
        self.norm_out = _norm(c)
        self.conv_out = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mid(self.conv_in(z))
        for stage in self.up:
            h = stage(h)
        return self.conv_out(F.silu(self.norm_out(h)))

    @property
    def last_layer(self) -> torch.Tensor:
        """The weight the adaptive GAN weight takes gradient norms at."""
        return self.conv_out.weight


def _nearest(flat: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """(N, D), (K, D) -> (N,) index of the nearest centre."""
    d = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ centers.t() + centers.pow(2).sum(1)[None]
    return d.argmin(1)


def _all_reduce(t: torch.Tensor) -> torch.Tensor:
    """Sum over processes when training distributed (every process keeps the same codebook)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.all_reduce(t)
    return t


class EMAQuantizer(nn.Module):
    """Nearest-codebook-entry quantisation with an EMA codebook, k-means init, dead-code restart.

    Buffers (saved with the weights): ``codebook`` (K, D), ``cluster_size`` (K,) EMA
    counts, ``embed_sum`` (K, D) EMA sums, ``initialized`` (scalar).
    """

    codebook: torch.Tensor
    cluster_size: torch.Tensor
    embed_sum: torch.Tensor
    initialized: torch.Tensor

    def __init__(self, num_embeddings: int, dim: int, *, beta: float, decay: float,
                 dead_threshold: float) -> None:
        super().__init__()
        self.num_embeddings, self.dim = num_embeddings, dim
        self.beta, self.decay, self.dead_threshold = beta, decay, dead_threshold
        self.register_buffer("codebook", torch.randn(num_embeddings, dim) * 0.1)
        self.register_buffer("cluster_size", torch.ones(num_embeddings))
        self.register_buffer("embed_sum", self.codebook.clone())
        self.register_buffer("initialized", torch.tensor(0.0))

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N,) index of the nearest code (squared Euclidean distance)."""
        return _nearest(flat, self.codebook)

    @torch.no_grad()
    def _kmeans_init(self, flat: torch.Tensor, iters: int = 10) -> None:
        pick = torch.randint(0, flat.shape[0], (self.num_embeddings,), device=flat.device)
        centers = flat[pick].clone()
        for _ in range(iters):
            idx = _nearest(flat, centers)
            counts = torch.bincount(idx, minlength=self.num_embeddings).float()
            sums = torch.zeros_like(centers).index_add_(0, idx, flat)
            filled = counts > 0
            centers[filled] = sums[filled] / counts[filled, None]
        centers = _all_reduce(centers) / _world()
        self.codebook.copy_(centers)
        self.embed_sum.copy_(centers)
        self.cluster_size.fill_(1.0)
        self.initialized.fill_(1.0)

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, idx: torch.Tensor) -> None:
        onehot_sum = torch.zeros_like(self.embed_sum).index_add_(0, idx, flat)
        counts = torch.bincount(idx, minlength=self.num_embeddings).float()
        counts, onehot_sum = _all_reduce(counts), _all_reduce(onehot_sum)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(onehot_sum, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + 1e-5) / (n + self.num_embeddings * 1e-5) * n  # Laplace
        self.codebook.copy_(self.embed_sum / smoothed[:, None])
        dead = self.cluster_size < self.dead_threshold
        n_dead = int(dead.sum())
        if n_dead:
            # restart dead codes on random encoder outputs of this batch (same on every process)
            g = torch.Generator(device="cpu").manual_seed(int(n.item() * 1000) % (2**31))
            pick = torch.randint(0, flat.shape[0], (n_dead,), generator=g).to(flat.device)
            fresh = _all_reduce(flat[pick].clone()) / _world()
            self.codebook[dead] = fresh
            self.embed_sum[dead] = fresh
            self.cluster_size[dead] = 1.0

    def forward(
        self, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, D, h, w) -> (z_q, straight-through; tokens (B, h, w); commitment loss)."""
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d)
        if self.training and not bool(self.initialized):
            self._kmeans_init(flat.detach())
        idx = self.nearest(flat.detach())
        if self.training:
            self._ema_update(flat.detach(), idx)
        zq = self.codebook[idx].view(b, h, w, d).permute(0, 3, 1, 2)
        loss = self.beta * F.mse_loss(z, zq.detach())
        return z + (zq - z).detach(), idx.view(b, h, w), loss

    def lookup(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, h, w) tokens -> (B, D, h, w) code vectors."""
        return self.codebook[tokens].permute(0, 3, 1, 2)


def _world() -> int:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return int(torch.distributed.get_world_size())
    return 1


class VQGAN(nn.Module):
    """Encoder + quantiser + decoder. Images are (B, 3, H, W) floats in [-1, 1]."""

    def __init__(self, config: VQGANConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.quant_conv = nn.Conv2d(config.z_channels, config.embedding_dim, 1)
        self.quantizer = EMAQuantizer(
            config.num_embeddings, config.embedding_dim, beta=config.beta,
            decay=config.ema_decay, dead_threshold=config.dead_code_threshold,
        )
        self.post_quant_conv = nn.Conv2d(config.embedding_dim, config.z_channels, 1)
        self.decoder = Decoder(config)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images -> (quantised vectors, tokens (B, h, w), commitment loss)."""
        return self.quantizer(self.quant_conv(self.encoder(x)))

    def decode(self, zq: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(zq))

    def decode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, h, w) tokens -> (B, 3, H, W) images."""
        return self.decode(self.quantizer.lookup(tokens))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images -> (reconstruction, tokens, commitment loss)."""
        zq, tokens, loss = self.encode(x)
        return self.decode(zq), tokens, loss

    @torch.no_grad()
    def tokenize(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> tokens (B, h, w), without touching the codebook."""
        z = self.quant_conv(self.encoder(x))
        b, d, h, w = z.shape
        return self.quantizer.nearest(z.permute(0, 2, 3, 1).reshape(-1, d)).view(b, h, w)


class PatchDiscriminator(nn.Module):
    """PatchGAN (Isola et al. 2017): a grid of real/fake logits, one per overlapping patch.

    ``n_layers`` strided convolutions double the channels (from ``channels``) and halve the
    resolution; ``forward`` also returns the intermediate features for feature matching.
    """

    def __init__(self, n_layers: int = 3, channels: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Sequential(
            nn.Conv2d(3, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2))]
        c = channels
        for n in range(1, n_layers + 1):
            c_out = channels * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers.append(nn.Sequential(
                nn.Conv2d(c, c_out, 4, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)))
            c = c_out
        self.layers = nn.ModuleList(layers)
        self.head = nn.Conv2d(c, 1, 4, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats = []
        h = x
        for layer in self.layers:
            h = layer(h)
            feats.append(h)
        return self.head(h), feats


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return 0.5 * (F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean())


def adaptive_gan_weight(
    rec_loss: torch.Tensor,
    g_loss: torch.Tensor,
    last_layer: torch.Tensor,
    *,
    max_weight: float = 1e4,
) -> torch.Tensor:
    """λ = ‖∇_L rec‖ / (‖∇_L gan‖ + δ) at the decoder's last layer L (Esser et al. 2021, eq. 7)."""
    rec_grad = torch.autograd.grad(rec_loss, last_layer, retain_graph=True)[0]
    g_grad = torch.autograd.grad(g_loss, last_layer, retain_graph=True)[0]
    weight = rec_grad.norm() / (g_grad.norm() + 1e-4)
    return weight.clamp(0.0, max_weight).detach()


def codebook_usage(tokens: torch.Tensor, num_embeddings: int) -> tuple[float, float]:
    """Share of codes used in ``tokens`` and the perplexity of their distribution."""
    counts = torch.bincount(tokens.flatten(), minlength=num_embeddings).float()
    p = counts / counts.sum().clamp(min=1)
    perplexity = float(torch.exp(-(p * (p + 1e-10).log()).sum()))
    return float((counts > 0).float().mean()), perplexity


def load_vqgan(folder: str | Path) -> VQGAN:
    """A trained VQ-GAN from its model folder, frozen, in eval mode."""
    cfg = load_config(folder, VQGANConfig, kind="vqgan")
    return load_weights(VQGAN(cfg), folder).eval().requires_grad_(False)
