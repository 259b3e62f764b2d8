"""InceptionV3 as the FID reference uses it: 2048-d pool features of an image.

The Fréchet Inception Distance (Heusel et al. 2017) compares Gaussian fits of the
2048-d final-pool activations of the TensorFlow InceptionV3 graph of 2015-12-05.
pytorch-fid ported that graph's weights to ``pt_inception-2015-12-05-6726825d.pth``,
a state dict of torchvision's ``Inception3(num_classes=1008, aux_logits=False)``
whose mixed blocks behave like TensorFlow's:

* the average pools inside the blocks ignore the zero padding
  (``count_include_pad=False``: "FIDInceptionA", "FIDInceptionC", "FIDInceptionE_1");
* the last block pools its fourth branch with a max pool ("FIDInceptionE_2").

This module writes that network out in full, with the same module names, so the
published file loads strictly with :func:`load_fid_inception`. Input: (B, 3, H, W)
RGB in [0, 1]; like pytorch-fid the network resizes it to 299×299 (bilinear) and
scales it to [-1, 1] itself. Shapes in the comments are for a 299×299 input.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from douga.models.statedict import load_state_dict_file

__all__ = ["FEATURE_DIM", "INPUT_SIZE", "WEIGHTS_FILE", "FIDInceptionV3", "load_fid_inception"]

#: Size of the pool features FID is computed on.
FEATURE_DIM = 2048
#: Side of the square image the network sees (the input is resized to it).
INPUT_SIZE = 299
#: The file name pytorch-fid publishes the weights under.
WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"


class BasicConv2d(nn.Module):
    """Convolution without bias, BatchNorm (eps 0.001, as TensorFlow), ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding,
                              bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    """3×3 average pool, stride 1, that averages only real pixels at the border (TF)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):
    """35×35 block: 1×1, 5×5, double 3×3 and pool branches -> 224 + pool_features channels."""

    def __init__(self, c_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(c_in, 64, 1)
        self.branch5x5_1 = BasicConv2d(c_in, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(c_in, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)  # (B, 64, 35, 35)
        b5 = self.branch5x5_2(self.branch5x5_1(x))  # (B, 64, 35, 35)
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))  # (B, 96, 35, 35)
        bp = self.branch_pool(_tf_avg_pool(x))  # (B, pool_features, 35, 35)
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    """35×35 -> 17×17 reduction: strided 3×3, strided double 3×3, max pool -> 480 + c_in."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3(x)  # (B, 384, 17, 17)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))  # (B, 96, 17, 17)
        bp = F.max_pool2d(x, kernel_size=3, stride=2)  # (B, c_in, 17, 17)
        return torch.cat([b3, bd, bp], 1)


class FIDInceptionC(nn.Module):
    """17×17 block with factorised 7×7 convolutions (1×7 then 7×1) -> 768 channels."""

    def __init__(self, c_in: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(c_in, 192, 1)
        self.branch7x7_1 = BasicConv2d(c_in, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(c_in, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)  # (B, 192, 17, 17)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))  # (B, 192, 17, 17)
        bd = self.branch7x7dbl_1(x)
        bd = self.branch7x7dbl_3(self.branch7x7dbl_2(bd))
        bd = self.branch7x7dbl_5(self.branch7x7dbl_4(bd))  # (B, 192, 17, 17)
        bp = self.branch_pool(_tf_avg_pool(x))  # (B, 192, 17, 17)
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    """17×17 -> 8×8 reduction: strided 3×3, 7×7 then strided 3×3, max pool -> 512 + c_in."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(c_in, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(c_in, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))  # (B, 320, 8, 8)
        b7 = self.branch7x7x3_2(self.branch7x7x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(b7))  # (B, 192, 8, 8)
        bp = F.max_pool2d(x, kernel_size=3, stride=2)  # (B, c_in, 8, 8)
        return torch.cat([b3, b7, bp], 1)


class FIDInceptionE(nn.Module):
    """8×8 block with split 1×3 / 3×1 convolutions -> 2048 channels.

    ``max_pool`` picks the pool of the fourth branch: the TF graph's first E block
    averages (ignoring padding), its last one takes the maximum.
    """

    def __init__(self, c_in: int, *, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(c_in, 320, 1)
        self.branch3x3_1 = BasicConv2d(c_in, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(c_in, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)  # (B, 320, 8, 8)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)  # (B, 768, 8, 8)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)  # (B, 768, 8, 8)
        if self.max_pool:
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = _tf_avg_pool(x)
        bp = self.branch_pool(pooled)  # (B, 192, 8, 8)
        return torch.cat([b1, b3, bd, bp], 1)


class FIDInceptionV3(nn.Module):
    """The FID InceptionV3: ``forward`` gives the (B, 2048) final-pool features.

    ``fc`` (the 1008-way classifier of the TF graph) is part of the published
    weights, so it is here for strict loading and :meth:`logits`; FID does not use it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, max_pool=False)
        self.Mixed_7c = FIDInceptionE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURE_DIM, 1008)

    @staticmethod
    def preprocess(images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 3, 299, 299) in [-1, 1], as pytorch-fid does."""
        x = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                          align_corners=False)
        return 2.0 * x - 1.0

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) already preprocessed (in [-1, 1], H, W >= 75) -> (B, 2048)."""
        x = self.Conv2d_1a_3x3(x)  # (B, 32, 149, 149)
        x = self.Conv2d_2a_3x3(x)  # (B, 32, 147, 147)
        x = self.Conv2d_2b_3x3(x)  # (B, 64, 147, 147)
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (B, 64, 73, 73)
        x = self.Conv2d_3b_1x1(x)  # (B, 80, 73, 73)
        x = self.Conv2d_4a_3x3(x)  # (B, 192, 71, 71)
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (B, 192, 35, 35)
        x = self.Mixed_5b(x)  # (B, 256, 35, 35)
        x = self.Mixed_5c(x)  # (B, 288, 35, 35)
        x = self.Mixed_5d(x)  # (B, 288, 35, 35)
        x = self.Mixed_6a(x)  # (B, 768, 17, 17)
        x = self.Mixed_6b(x)  # (B, 768, 17, 17)
        x = self.Mixed_6c(x)  # (B, 768, 17, 17)
        x = self.Mixed_6d(x)  # (B, 768, 17, 17)
        x = self.Mixed_6e(x)  # (B, 768, 17, 17)
        x = self.Mixed_7a(x)  # (B, 1280, 8, 8)
        x = self.Mixed_7b(x)  # (B, 2048, 8, 8)
        x = self.Mixed_7c(x)  # (B, 2048, 8, 8)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # (B, 2048)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) RGB in [0, 1], any size -> (B, 2048) pool features."""
        return self.features(self.preprocess(images))

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) RGB in [0, 1] -> (B, 1008) class logits of the TF graph."""
        return self.fc(self.forward(images))


def load_fid_inception(path: str | Path) -> FIDInceptionV3:
    """The FID InceptionV3 with the weights of ``path`` (``pt_inception-2015-12-05-6726825d.pth``).

    Raises
    ------
    InputError
        Naming the file, when it is missing, unreadable or not these weights.
    """
    return load_state_dict_file(FIDInceptionV3(), path,
                                what=f"the FID InceptionV3 weights of pytorch-fid ({WEIGHTS_FILE})")
