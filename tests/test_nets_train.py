"""Training: determinism, loss goes down, evaluation, input checks."""

import dataclasses

import numpy as np
import pytest
import torch

from memcomp.nets import TrainConfig, build_model, evaluate, predict, row_errors, train_model
from memcomp.nets.train import random_shift

pytestmark = pytest.mark.usefixtures("quiet", "torch_threads")


def _digits_like(n, seed):
    """Synthetic (N, 3, 28, 28) inputs whose target is the sum of per-channel brightness levels."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, 4, size=(n, 3))
    images = np.zeros((n, 3, 28, 28), np.float32)
    for c in range(3):
        images[:, c, 8:20, 8:20] = levels[:, c, None, None] / 3.0
    return torch.from_numpy(images), torch.from_numpy(levels.sum(1).astype(np.float32))


def test_same_seed_gives_identical_losses_on_cpu():
    data = _digits_like(48, 0)
    cfg = TrainConfig(epochs=2, batch_size=16, lr=1e-3, seed=3, device="cpu")
    runs = []
    for _ in range(2):
        model = build_model("linear", feature_dim=8, width=4, seed=5)
        runs.append(train_model(model, data, cfg))
    assert runs[0].epoch_losses == runs[1].epoch_losses
    assert runs[0].train_loss == runs[1].train_loss
    other = train_model(build_model("linear", feature_dim=8, width=4, seed=5), data, dataclasses.replace(cfg, seed=4))
    assert other.epoch_losses != runs[0].epoch_losses


@pytest.mark.parametrize("architecture", ["sum", "cross_channel"])
def test_training_reduces_the_loss(architecture):
    train, test = _digits_like(96, 1), _digits_like(64, 2)
    model = build_model(architecture, feature_dim=8, width=4, seed=0)
    before = evaluate(model, test)
    result = train_model(model, train, TrainConfig(epochs=15, batch_size=16, lr=1e-2, seed=0, device="cpu"))
    after = evaluate(model, test)
    assert after < 0.2 * before
    assert result.train_loss < 0.2 * before
    assert len(result.epoch_losses) == 15


def test_weight_decay_shrinks_the_weights():
    data = _digits_like(32, 3)
    norms = []
    for wd in (0.0, 0.5):
        model = build_model("sum", feature_dim=8, width=4, seed=0)
        train_model(model, data, TrainConfig(epochs=3, batch_size=16, weight_decay=wd, device="cpu"))
        norms.append(sum(float((p.detach() ** 2).sum()) for p in model.parameters()))
    assert norms[1] < norms[0]


def test_evaluate_is_the_mean_squared_error():
    images, targets = _digits_like(10, 4)
    model = build_model("sum", feature_dim=4, width=2, seed=0)
    with torch.no_grad():
        expected = float(((model(images) - targets) ** 2).mean())
    assert evaluate(model, (images, targets)) == pytest.approx(expected, rel=1e-5)


def test_random_shift_moves_whole_samples_and_is_seeded():
    x = torch.zeros(6, 3, 9, 9)
    x[:, :, 4, 4] = 1.0
    a = random_shift(x, 2, torch.Generator().manual_seed(0))
    b = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    for sample in a:
        where = [tuple(torch.nonzero(ch)[0].tolist()) for ch in sample]
        assert len(set(where)) == 1  # every channel moved by the same offset
        r, c = where[0]
        assert abs(r - 4) <= 2 and abs(c - 4) <= 2
    assert a.sum() == x.sum()


@pytest.mark.parametrize(
    "field, value",
    [("epochs", 0), ("batch_size", 0), ("lr", 0.0), ("weight_decay", -1.0), ("optimizer", "rmsprop"),
     ("seed", -1), ("device", "tpu"), ("lr_schedule", "step"), ("augment_shift", 9), ("cudnn_benchmark", "yes")],
)
def test_bad_config_names_the_parameter(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_bad_split_is_a_clear_error():
    model = build_model("sum", feature_dim=4, width=2, seed=0)
    with pytest.raises(ValueError, match="train_split"):
        train_model(model, (torch.rand(4, 1, 28, 28), torch.rand(4)), TrainConfig(device="cpu"))
    with pytest.raises(ValueError, match="targets"):
        train_model(model, (torch.rand(4, 3, 28, 28), torch.rand(5)), TrainConfig(device="cpu"))
    with pytest.raises(TypeError, match="config"):
        train_model(model, (torch.rand(4, 3, 28, 28), torch.rand(4)), {"epochs": 1})
    with pytest.raises(TypeError, match="model"):
        evaluate("not a model", (torch.rand(4, 3, 28, 28), torch.rand(4)))


def test_predict_row_errors_and_evaluate_agree_and_restore_the_training_mode():
    images, targets = _digits_like(12, 5)
    model = build_model("two_layer", feature_dim=4, width=2, seed=0)
    model.train()
    pred = predict(model, (images, targets), batch=5)  # three batches
    with torch.no_grad():
        model.eval()
        expected = model(images).double().numpy()
        model.train()
    assert model.training and pred.dtype == np.float64
    np.testing.assert_allclose(pred, expected, rtol=1e-6, atol=1e-6)
    errors = row_errors(model, (images, targets))
    np.testing.assert_allclose(errors, (expected - targets.numpy()) ** 2, rtol=1e-5, atol=1e-5)
    assert evaluate(model, (images, targets), batch=5) == pytest.approx(errors.mean(), rel=1e-6)
    assert model.training


def test_cudnn_benchmark_setting_is_left_as_it_was():
    before = torch.backends.cudnn.benchmark
    data = _digits_like(8, 6)
    train_model(build_model("sum", feature_dim=4, width=2, seed=0), data,
                TrainConfig(epochs=1, batch_size=8, device="cpu", cudnn_benchmark=True))
    assert torch.backends.cudnn.benchmark == before


class _Frozen(torch.nn.Module):
    """A linear model plus a weight and a bias that the output ignores (their gradient is 0)."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3 * 28 * 28, 1)
        self.idle_weight = torch.nn.Parameter(torch.ones(2, 2))
        self.idle_bias = torch.nn.Parameter(torch.ones(2))

    def forward(self, x):
        idle = 0.0 * (self.idle_weight.sum() + self.idle_bias.sum())
        return self.linear(x.flatten(1)).squeeze(-1) + idle


@pytest.mark.parametrize("mode", ["l2", "l2_no_norm", "decoupled"])
def test_weight_decay_modes_agree_without_decay(mode):
    data = _digits_like(32, 0)
    base = train_model(build_model("sum", feature_dim=8, width=4, seed=1), data, TrainConfig(epochs=1, batch_size=8, seed=0))
    other = train_model(
        build_model("sum", feature_dim=8, width=4, seed=1), data, TrainConfig(epochs=1, batch_size=8, seed=0, weight_decay_mode=mode)
    )
    assert other.epoch_losses == base.epoch_losses


def test_weight_decay_modes_shrink_what_they_say():
    """With a zero loss gradient, one step of lr 0.1 and weight decay 0.5: AdamW shrinks every
    parameter by exactly 1 - 0.05; coupled L2 moves it by Adam's normalised step (about lr);
    l2_no_norm leaves the bias alone."""
    data = _digits_like(4, 0)
    after = {}
    for mode in ("l2", "l2_no_norm", "decoupled"):
        model = _Frozen()
        cfg = TrainConfig(epochs=1, batch_size=4, lr=0.1, weight_decay=0.5, weight_decay_mode=mode, lr_schedule="constant")
        train_model(model, data, cfg)
        after[mode] = (model.idle_weight[0, 0].item(), model.idle_bias[0].item())
    assert after["decoupled"] == pytest.approx((0.95, 0.95), abs=1e-6)
    assert after["l2"] == pytest.approx((0.9, 0.9), abs=1e-4)  # Adam's first step: lr * sign(gradient)
    assert after["l2_no_norm"] == pytest.approx((0.9, 1.0), abs=1e-4)


def test_decoupled_weight_decay_needs_adam():
    with pytest.raises(ValueError, match="weight_decay_mode 'decoupled' needs optimizer 'adam'"):
        TrainConfig(optimizer="sgd", weight_decay_mode="decoupled")
    with pytest.raises(ValueError, match="weight_decay_mode must be one of"):
        TrainConfig(weight_decay_mode="adamw")
