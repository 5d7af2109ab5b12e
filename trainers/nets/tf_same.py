"""TensorFlow's ``padding='SAME'`` convolutions, exactly, for nets ported from TF reference code.

TF pads a stride-``s`` convolution of a size-``n`` input with ``total = max((ceil(n/s) - 1)*s + k - n, 0)`` zeros,
``total // 2`` before and the rest after (``tf.nn.conv2d`` docs, "padding"). When ``total`` is odd the extra zero
goes after, which no symmetric ``nn.Conv2d(padding=p)`` reproduces; the pixel grid of every layer would shift by one.
``tf.nn.conv2d_transpose(output_shape=out, padding='SAME')`` is by definition the gradient (adjoint) of that
convolution from size ``out`` to size ``ceil(out/s)``: the full transposed convolution, cropped by the same
``total // 2`` before and the rest after. carpedm20/DCGAN-tensorflow ``ops.py`` (``conv2d``, ``deconv2d``) and its
forks in VEEGAN and PacGAN build every layer this way.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) zeros TF's SAME adds to one spatial axis of length ``size``."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Square ``kernel``, ``stride``; output ``ceil(in / stride)`` per axis, padded as TF's SAME."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int) -> None:
        super().__init__(in_channels, out_channels, kernel, stride, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        top, bottom = same_padding(x.shape[-2], k, s)
        left, right = same_padding(x.shape[-1], k, s)
        return super().forward(F.pad(x, (left, right, top, bottom)))


class SameConvTranspose2d(nn.ConvTranspose2d):
    """The adjoint of :class:`SameConv2d` from ``out_size`` x ``out_size``: TF's ``conv2d_transpose`` with
    ``output_shape`` and SAME padding. Needs ``kernel >= stride`` (then the full output covers ``out_size``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, out_size: int) -> None:
        if kernel < stride:
            raise ValueError(f"kernel {kernel} < stride {stride}: the full transposed convolution is too short")
        super().__init__(in_channels, out_channels, kernel, stride, padding=0)
        self.out_size = out_size
        self.crop = same_padding(out_size, kernel, stride)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lo, hi = self.crop, self.crop + self.out_size
        return super().forward(x)[..., lo:hi, lo:hi]
