"""Wav2CLIP (Wu et al. 2022): an audio encoder distilled into CLIP's image-text space.

Music2Video guides each music segment by the segment's own sound: Wav2CLIP maps a
clip of 16 kHz audio to a 512-d vector in the space of CLIP ViT-B/32, so it can stand
in for a text prompt. The architecture is the published one, so its checkpoint loads
strictly:

* a log-power spectrogram (n_fft 512, hop 353, Hann window, centred), standardised by
  its own mean and standard deviation;
* a ResNet-18 on it as a one-channel image (7x7 stem, max-pool, four stages of two
  basic blocks, 64-128-256-512 channels, BatchNorm), global average pooling -> 512;
* a projection MLP ``Linear-ReLU-Dropout-Linear`` (512-512-512) into CLIP's space.

The published checkpoint (``Wav2CLIP.ckpt``, PyTorch Lightning) keeps the ResNet under
``audio_encoder.`` and the MLP under ``audio_transform.`` (as ``sequential.0`` and
``sequential.3``); :func:`load_wav2clip` reads those (skipping the ResNet's unused
classifier head ``audio_encoder.fc``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from douga.errors import InputError
from douga.models.statedict import read_checkpoint_state

SAMPLE_RATE = 16_000
WEIGHTS_HELP = (
    "get the Wav2CLIP checkpoint once, on a machine with network (the MODEL_URL in "
    "wav2clip/__init__.py of github.com/descriptinc/lyrebird-wav2clip, a file named "
    "Wav2CLIP.ckpt) and set `guidance: {audio_encoder: path/to/Wav2CLIP.ckpt}`; without it "
    "segments without a lyric follow the prompts only"
)


@dataclass(frozen=True)
class Wav2ClipConfig:
    """Shape of the encoder; the published model is the default."""

    widths: tuple[int, ...] = (64, 128, 256, 512)
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    projection: tuple[int, ...] = (512, 512)  # MLP widths after the ResNet's output
    n_fft: int = 512
    hop_length: int = 353


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.downsample is None else self.downsample(x)))


class Spectrogram(nn.Module):
    """Power spectrogram; the window is a buffer, as in torchaudio (the weights carry it)."""

    window: torch.Tensor

    def __init__(self, n_fft: int, hop_length: int) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop_length
        self.register_buffer("window", torch.hann_window(n_fft))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, samples) -> (B, 1, n_fft // 2 + 1, frames)."""
        spec = torch.stft(wave, self.n_fft, hop_length=self.hop, window=self.window,
                          center=True, pad_mode="reflect", return_complex=True)
        return spec.abs().pow(2)[:, None]


class AudioResNet(nn.Module):
    """Waveforms (B, samples) at 16 kHz -> (B, widths[-1]) features."""

    def __init__(self, cfg: Wav2ClipConfig) -> None:
        super().__init__()
        self.spectrogram = Spectrogram(cfg.n_fft, cfg.hop_length)
        stem = cfg.widths[0]
        self.conv1 = nn.Conv2d(1, stem, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        c = stem
        for i, (width, count) in enumerate(zip(cfg.widths, cfg.blocks, strict=True)):
            stride = 1 if i == 0 else 2
            layer = [BasicBlock(c, width, stride)] + [BasicBlock(width, width, 1)
                                                      for _ in range(count - 1)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*layer))
            c = width
        self.layers = len(cfg.widths)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = torch.log(self.spectrogram(wave) + 1e-7)  # (B, 1, freq, time)
        x = (x - x.mean()) / (x.std() + 1e-9)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, stride=2, padding=1)
        for i in range(self.layers):
            x = getattr(self, f"layer{i + 1}")(x)
        return x.mean(dim=(2, 3))


class ProjectionMLP(nn.Module):
    def __init__(self, widths: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(0.1)]
        self.sequential = nn.Sequential(*layers[:-2])  # no activation after the last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sequential(x)


class Wav2Clip(nn.Module):
    """Audio -> CLIP-space vectors. Build with a config; load weights with :func:`load_wav2clip`."""

    def __init__(self, config: Wav2ClipConfig | None = None) -> None:
        super().__init__()
        self.config = config or Wav2ClipConfig()
        self.audio_encoder = AudioResNet(self.config)
        self.audio_transform = ProjectionMLP((self.config.widths[-1], *self.config.projection))

    @property
    def dim(self) -> int:
        return self.config.projection[-1]

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, samples) at 16 kHz -> (B, dim), not normalised."""
        return self.audio_transform(self.audio_encoder(wave))

    @torch.no_grad()
    def embed(self, samples: np.ndarray, rate: int) -> torch.Tensor:
        """One mono clip at any rate -> its (dim,) unit vector."""
        import librosa

        wave = np.asarray(samples, dtype=np.float32)
        if rate != SAMPLE_RATE:
            wave = librosa.resample(wave, orig_sr=rate, target_sr=SAMPLE_RATE)
        if wave.size < self.config.n_fft:
            wave = np.pad(wave, (0, self.config.n_fft - wave.size))
        device = self.audio_encoder.spectrogram.window.device
        out = self(torch.from_numpy(wave)[None].to(device))[0]
        return F.normalize(out.float(), dim=-1)


def load_wav2clip(path: str | Path) -> Wav2Clip:
    """The Wav2CLIP encoder, eval and frozen, from the published ``.ckpt`` (by path)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: Wav2CLIP weights not found; {WEIGHTS_HELP}")
    state = read_checkpoint_state(p, what="the Wav2CLIP checkpoint (Wav2CLIP.ckpt)")
    # the ResNet's classifier head (audio_encoder.fc) is saved but never used for embeddings
    picked = {k: v for k, v in state.items()
              if k.startswith(("audio_encoder.", "audio_transform."))
              and not k.startswith("audio_encoder.fc.")}
    model = Wav2Clip(_config_from_state(picked))
    own = model.state_dict()
    missing = [k for k in own if k not in picked and not k.endswith("num_batches_tracked")]
    if missing:
        raise InputError(f"{p}: missing weights {missing[:3]}; expected the Wav2CLIP checkpoint")
    unexpected = [k for k in picked if k not in own]
    wrong = [k for k in picked if k in own and picked[k].shape != own[k].shape]
    if unexpected or wrong:
        raise InputError(f"{p}: weights that do not fit Wav2CLIP: {(unexpected + wrong)[:3]}")
    model.load_state_dict({**own, **picked}, strict=True)
    return model.eval().requires_grad_(False)


def _config_from_state(state: dict[str, torch.Tensor]) -> Wav2ClipConfig:
    """The shape a checkpoint was saved with, read from its tensors (the published one is
    the default; tests use tiny ones)."""
    default = Wav2ClipConfig()
    widths, blocks = [], []
    i = 1
    while f"audio_encoder.layer{i}.0.conv1.weight" in state:
        widths.append(int(state[f"audio_encoder.layer{i}.0.conv1.weight"].shape[0]))
        blocks.append(1 + max(int(k.split(".")[2]) for k in state
                              if k.startswith(f"audio_encoder.layer{i}.")))
        i += 1
    linears = sorted(int(k.split(".")[2]) for k in state
                     if k.startswith("audio_transform.sequential.") and k.endswith(".weight"))
    projection = tuple(int(state[f"audio_transform.sequential.{j}.weight"].shape[0])
                       for j in linears)
    window = state.get("audio_encoder.spectrogram.window")
    if not widths or not projection:
        return default
    return Wav2ClipConfig(widths=tuple(widths), blocks=tuple(blocks), projection=projection,
                          n_fft=int(window.numel()) if window is not None else default.n_fft)
