"""Encoders and the four architectures: shapes, additivity, input checks."""

import pytest
import torch

from memcomp.nets import ARCH_LABELS, ARCHITECTURES, COMPOSING, build_encoder, build_model

pytestmark = pytest.mark.usefixtures("torch_threads")


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("encoder", ["small_cnn", "plain_cnn", "batchnorm_cnn", "resnet18"])
def test_every_model_maps_a_batch_to_one_number_per_sample(architecture, encoder):
    model = build_model(architecture, encoder, feature_dim=8, width=4, seed=0)
    out = model(torch.rand(5, 3, 28, 28))
    assert out.shape == (5,)
    assert torch.isfinite(out).all()


def test_small_cnn_normalises_its_features_and_plain_cnn_does_not():
    small, plain = build_encoder("small_cnn", feature_dim=8, width=4), build_encoder("plain_cnn", feature_dim=8, width=4)
    norms = lambda enc: [m for m in enc.modules() if isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm, torch.nn.BatchNorm2d))]
    assert len(norms(small)) == 1 and isinstance(norms(small)[0], torch.nn.LayerNorm) and norms(plain) == []
    # scaling the layer before the LayerNorm leaves the small CNN's output unchanged (why Table 1 uses plain_cnn)
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        for enc, invariant in ((small, True), (plain, False)):
            before = enc(x)
            last = [m for m in enc.body if isinstance(m, torch.nn.Linear)][-1]
            last.weight.mul_(3.0)
            last.bias.mul_(3.0)
            assert torch.allclose(enc(x), before, rtol=1e-2, atol=1e-2) == invariant  # up to LayerNorm eps


def test_resnet18_has_the_paper_shape():
    enc = build_encoder("resnet18", in_channels=1, feature_dim=512)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    # stem + 8 blocks x 2 convs + 3 downsampling shortcuts = 20 convs; 3x3 stem, stride 1
    assert len(convs) == 20
    assert convs[0].kernel_size == (3, 3) and convs[0].stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in enc.modules())
    assert enc(torch.rand(2, 1, 28, 28)).shape == (2, 512)
    assert 11_000_000 < sum(p.numel() for p in enc.parameters()) < 11_300_000


@pytest.mark.parametrize("encoder", ["small_cnn", "resnet18"])
def test_sum_model_is_exactly_additive_over_channels(encoder):
    model = build_model("sum", encoder, feature_dim=8, width=4, seed=1)
    x = torch.rand(4, 3, 28, 28)
    with torch.no_grad():
        whole = model(x)
        blank = torch.zeros_like(x)
        parts = []
        for c in range(3):
            only = blank.clone()
            only[:, c] = x[:, c]
            parts.append(model(only) - 2 * model.per_channel(blank)[:, 0])
        permuted = model(x[:, [2, 0, 1]])
    torch.testing.assert_close(whole, sum(parts), rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(whole, permuted, rtol=1e-5, atol=1e-4)


def test_cross_channel_and_linear_models_are_not_permutation_invariant():
    x = torch.rand(4, 3, 28, 28)
    for arch in ("linear", "cross_channel"):
        model = build_model(arch, "small_cnn", feature_dim=8, width=4, seed=2)
        with torch.no_grad():
            assert not torch.allclose(model(x), model(x[:, [2, 0, 1]]))


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model("two_layer", seed=7)
    after = torch.rand(1)
    b = build_model("two_layer", seed=7)
    c = build_model("two_layer", seed=8)
    assert torch.equal(before, after)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"architecture": "product"}, "architecture"),
        ({"architecture": "sum", "encoder": "vgg"}, "encoder"),
        ({"architecture": "sum", "feature_dim": 0}, "feature_dim"),
        ({"architecture": "sum", "seed": -1}, "seed"),
        ({"architecture": "two_layer", "hidden": 0}, "hidden"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        build_model(**kwargs)


def test_wrong_input_shape_is_a_clear_error():
    model = build_model("sum", feature_dim=4, width=2, seed=0)
    with pytest.raises(ValueError, match="shape"):
        model(torch.rand(2, 1, 28, 28))


def test_architecture_names_are_defined_once_and_labelled():
    import memcomp.experiments.table1_report as report
    import memcomp.plots.neural as plots

    assert ARCHITECTURES == ("sum", "linear", "two_layer", "cross_channel")
    assert set(ARCH_LABELS) == set(ARCHITECTURES) and set(COMPOSING) == set(ARCHITECTURES) - {"cross_channel"}
    assert plots.ARCH_LABELS is ARCH_LABELS and report.ARCH_LABELS is ARCH_LABELS


def test_batchnorm_cnn_makes_its_conv_kernels_scale_invariant():
    """Behind a BatchNorm a conv kernel's scale does not change the function (in training
    mode, where the batch's own statistics normalise): why coupled L2 on it only changes its
    effective learning rate."""
    enc = build_encoder("batchnorm_cnn", feature_dim=8, width=4).train()
    x = torch.rand(16, 1, 28, 28)
    before = enc(x)
    with torch.no_grad():
        enc.body[0].weight.mul_(5.0)
        enc.body[0].bias.mul_(5.0)
    assert torch.allclose(enc(x), before, atol=1e-3)  # up to the eps in the variance
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in enc.modules())
