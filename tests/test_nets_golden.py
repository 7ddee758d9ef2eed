"""Golden values of a tiny fixed-seed neural run (a refactor must not change the numbers).

Synthetic inputs (numpy, seeded; no dataset), a Sum and a Cross-channel model on the small
CNN, 64 training rows, 2 epochs of Adam. The stored values were written on an Intel Xeon
(AVX-512), 1 torch thread.

Spread measured on that machine over MEMCOMP_THREADS=1|2 and ATEN_CPU_CAPABILITY=default|avx2
with ONEDNN_MAX_CPU_ISA=AVX2 (five settings): the Sum values were bitwise equal; the
Cross-channel values differed by at most 8.7e-8 relative (test loss 175.760727 against
175.760742, an epoch loss 200.429718 against 200.429703). Tolerance: ``rtol = 1e-6``, about
ten times that spread (float32 training, so bitwise equality across processors is not
expected).
"""

import numpy as np
import pytest
import torch

from memcomp.nets import TrainConfig, build_model, evaluate, train_model

RTOL = 1e-6

#: architecture -> (epoch 1 loss, epoch 2 loss, train_loss, test loss)
GOLDEN = {
    "sum": (166.769775390625, 124.61040496826172, 121.83277893066406, 101.51800537109375),
    "cross_channel": (219.0665740966797, 200.42971801757812, 199.04441833496094, 175.76072692871094),
}


def _data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three noisy squares per row whose brightness codes a level 0-9; target: the sum of levels."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, 10, size=(n, 3))
    images = rng.random((n, 3, 28, 28), dtype=np.float32) * 0.2
    for c in range(3):
        images[:, c, 6:22, 6:22] += (levels[:, c, None, None] / 9.0).astype(np.float32)
    return torch.from_numpy(images), torch.from_numpy(levels.sum(1).astype(np.float32))


@pytest.mark.parametrize("architecture", sorted(GOLDEN))
def test_tiny_training_run_matches_the_golden_values(architecture, quiet, torch_threads):
    train, test = _data(64, 0), _data(32, 1)
    model = build_model(architecture, "small_cnn", 16, width=8, seed=0)
    result = train_model(model, train, TrainConfig(epochs=2, batch_size=16, lr=1e-2, seed=0, device="cpu"))
    got = (*result.epoch_losses, result.train_loss, evaluate(model, test))
    np.testing.assert_allclose(got, GOLDEN[architecture], rtol=RTOL, atol=0)
