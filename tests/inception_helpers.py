"""Random FID-Inception weights for parity tests: the same file is given to gan-eval and the peer libraries."""
from __future__ import annotations

from pathlib import Path

import torch

from gan_eval.features.inception import FIDInceptionV3, resize_tf1_bilinear


def write_random_inception_weights(path: Path, seed: int = 0) -> Path:
    """Randomly initialised weights whose batch-norm statistics are calibrated on random inputs (so features
    vary with the image, on a scale like the real network's), saved in the published key format."""
    torch.manual_seed(seed)
    net = FIDInceptionV3()
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # cumulative average over the calibration pass
    net.train()
    with torch.no_grad():  # calibrate on inputs like the tests': small random images resized to 299
        net.pool(resize_tf1_bilinear(torch.rand(4, 3, 32, 32)) * 2 - 1)
    torch.save(net.state_dict(), path)
    return path
