"""What the neural experiments (Figure 2, Table 1) share: one network and training
configuration (:class:`NeuralConfig`), the command-line options common to both, and the
translation of config field names into the flags a user typed (:func:`flag_names`)."""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from memcomp.checks import ParameterError, check_choice, check_float, check_int, check_seed
from memcomp.config import SCALES

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from memcomp.nets.train import TrainConfig

#: Config field -> the command-line flag that sets it (errors name the flag).
FLAGS: dict[str, str] = {
    "scale": "--scale",
    "seeds": "--seeds",
    "seed": "--seed",
    "device": "--device",
    "architectures": "--architectures",
    "encoder": "--encoder",
    "epochs": "--epochs",
    "n_train": "--train-size",
    "n_test": "--test-size",
    "n_test_pairs": "--test-size",
    "n_test_in": "--test-in-size",
    "source": "--source",
    "nines": "--nines",
    "curve_weight_decays": "--curve",
    "symbols": "--symbols",
    "digit_images_per_class": "--digit-images",
    "influence": "--influence",
    "weight_decay_mode": "--weight-decay-mode",
    "cross_channel_epoch_factor": "--cross-channel-epoch-factor",
    "influence_architectures": "--influence-architectures",
    "influence_spread_seeds": "--influence-spread-seeds",
    "out": "--out",
}


@dataclass(frozen=True, kw_only=True)
class NeuralConfig:
    """The network and training settings that Figure 2 and Table 1 share.

    Parameters
    ----------
    scale : {"fast", "paper"}
        The preset this config came from.
    architectures : tuple of str
        Subset of :data:`memcomp.nets.architectures.ARCHITECTURES`.
    encoder : {"small_cnn", "plain_cnn", "batchnorm_cnn", "resnet18"}
        The per-digit (or whole-image) network.
    feature_dim : int
        Encoder output size (1 to 65536).
    width : int or None
        Encoder width (2 to 4096; None for ResNet-18's own).
    n_train : int
        Training rows.
    zipf_exponent : float
        Digit frequencies P(j) ~ (j + 1)^-zipf_exponent (0 to 20).
    seeds, seed : int
        Run ``s`` of ``seeds`` uses seed ``seed + s`` for data, weights and minibatch order.
    epochs, batch_size, lr, augment_shift :
        Training (Adam, cosine schedule): see :class:`memcomp.nets.TrainConfig`.
    weight_decay_mode : {"l2", "l2_no_norm", "decoupled"}
        Which reading of "weight decay" (see :mod:`memcomp.nets.train`).
    source : {"bundled", "full"}
        MNIST: the bundled subset or the full download.
    device : {"cpu", "cuda", "auto"} or None
        None: ``$MEMCOMP_DEVICE`` or cpu.
    amp : bool
        bfloat16 autocast in training steps on CUDA (evaluation is always float32).
    cudnn_benchmark : bool
        Let cuDNN pick its fastest kernels (CUDA; off by default, restored after training).
    """

    scale: str
    architectures: tuple[str, ...]
    encoder: str
    feature_dim: int
    width: int | None
    n_train: int
    zipf_exponent: float
    seeds: int
    seed: int
    epochs: int
    batch_size: int
    lr: float
    augment_shift: int = 0
    source: str = "bundled"
    device: str | None = None
    amp: bool = True
    cudnn_benchmark: bool = False
    weight_decay_mode: str = "l2"

    def __post_init__(self) -> None:
        from memcomp.nets.architectures import ARCHITECTURES
        from memcomp.nets.encoders import ENCODERS

        check_choice("scale", self.scale, SCALES)
        for name in ("architectures", "curve_architectures"):
            value = getattr(self, name, ())
            if not isinstance(value, tuple):
                raise ParameterError(name, f"{name} must be a tuple of architecture names; got {value!r}")
        if not self.architectures:
            raise ParameterError("architectures", "architectures must name at least one architecture; got ()")
        for a in self.all_architectures():
            check_choice("architectures", a, ARCHITECTURES)
        check_choice("encoder", self.encoder, ENCODERS)
        check_int("feature_dim", self.feature_dim, low=1, high=65536)
        if self.width is not None:
            check_int("width", self.width, low=2, high=4096)
        check_int("n_train", self.n_train, low=1, high=10_000_000)
        check_float("zipf_exponent", self.zipf_exponent, low=0.0, high=20.0)
        check_int("seeds", self.seeds, low=1, high=1000)
        check_seed("seed", self.seed)
        check_choice("source", self.source, ("bundled", "full"))
        if self.device is not None:
            check_choice("device", self.device, ("cpu", "cuda", "auto"))
        self.train_config(0, 0.0)  # validates epochs, batch_size, lr, augment_shift, amp, cudnn_benchmark, weight_decay_mode

    def all_architectures(self) -> tuple[str, ...]:
        """Every architecture this config trains."""
        return self.architectures

    def train_config(self, seed: int, weight_decay: float) -> TrainConfig:
        """The :class:`memcomp.nets.TrainConfig` of one run (Adam, cosine schedule, weight decay
        read as ``weight_decay_mode``).

        Parameters
        ----------
        seed : int
            Minibatch order (and augmentation) seed.
        weight_decay : float
            Coupled L2 coefficient (>= 0).
        """
        from memcomp.nets.train import TrainConfig

        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=weight_decay,
            weight_decay_mode=self.weight_decay_mode,
            optimizer="adam",
            seed=seed,
            device=self.device,
            augment_shift=self.augment_shift,
            amp=self.amp,
            cudnn_benchmark=self.cudnn_benchmark,
        )

    def build_model(self, architecture: str, seed: int) -> nn.Module:
        """A freshly initialised ``architecture`` on this config's encoder (weights from ``seed``)."""
        from memcomp.nets.models import build_model

        return build_model(architecture, self.encoder, self.feature_dim, width=self.width, seed=seed)

    def mixed_precision(self, device: str) -> bool:
        """Whether training steps run under bfloat16 autocast on ``device``."""
        return bool(self.amp) and device == "cuda"


@contextlib.contextmanager
def flag_names(flags: dict[str, str] = FLAGS) -> Iterator[None]:
    """Re-raise a :class:`memcomp.checks.ParameterError` about a config field as one about the
    command-line flag that sets it (``n_train`` becomes ``--train-size``)."""
    try:
        yield
    except ParameterError as exc:
        flag = flags.get(exc.name)
        if flag is None:
            raise
        message = str(exc)
        if message.startswith(exc.name):
            message = flag + message[len(exc.name) :]
        else:
            message = f"{flag}: {message}"
        raise type(exc)(flag, message) from None


def add_network_arguments(parser: argparse.ArgumentParser, *, test_size_help: str) -> None:
    """The options of every neural ``memcomp reproduce`` command (see :func:`network_overrides`)."""
    parser.add_argument("--scale", choices=SCALES, default=None, help="preset (default: $MEMCOMP_SCALE or fast)")
    parser.add_argument("--seeds", type=int, default=None, help="runs per setting (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default=None, help="default: $MEMCOMP_DEVICE or cpu")
    parser.add_argument(
        "--architectures", default=None, help="comma-separated subset of sum,linear,two_layer,cross_channel (default: all four)"
    )
    parser.add_argument(
        "--encoder", default=None, help="override the preset's encoder: small_cnn, plain_cnn, batchnorm_cnn or resnet18"
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    parser.add_argument("--train-size", type=int, default=None, help="override the preset's number of training samples")
    parser.add_argument("--test-size", type=int, default=None, help=test_size_help)
    parser.add_argument("--source", choices=("bundled", "full"), default=None, help="MNIST source (default: bundled)")
    parser.add_argument(
        "--weight-decay-mode",
        default=None,
        help="reading of weight decay: l2 (coupled, every parameter), l2_no_norm (coupled, weights only) or "
        "decoupled (AdamW) (default: the preset's)",
    )
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results/)")


def network_overrides(args: argparse.Namespace, *, test_size_field: str, **extra: Any) -> dict[str, Any]:
    """Config overrides from the options of :func:`add_network_arguments` (``--test-size``
    sets ``test_size_field``) and ``extra``; options left unset keep the preset's value."""
    overrides: dict[str, Any] = {"seed": args.seed, "device": args.device}
    given = {
        "seeds": args.seeds,
        "architectures": parse_names("architectures", args.architectures),
        "encoder": args.encoder,
        "epochs": args.epochs,
        "n_train": args.train_size,
        test_size_field: args.test_size,
        "source": args.source,
        "weight_decay_mode": args.weight_decay_mode,
        **extra,
    }
    overrides.update({k: v for k, v in given.items() if v is not None})
    return overrides


def parse_numbers(name: str, text: str | None, kind: Callable[[str], Any], example: str) -> tuple | None:
    """``"1,2,3"`` as a tuple of ``kind`` (None stays None; ``""`` gives ``()``).

    Raises
    ------
    ParameterError
        Naming ``name`` and an ``example`` when a part is not a number.
    """
    if text is None:
        return None
    try:
        return tuple(kind(t) for t in parse_names(name, text))
    except ValueError:
        raise ParameterError(name, f"{name} must be comma-separated numbers such as {example}; got {text!r}") from None


def parse_names(name: str, text: str | None) -> tuple[str, ...] | None:
    """``"a,b"`` as ``("a", "b")`` (None stays None); the config checks the names themselves."""
    if text is None:
        return None
    return tuple(t.strip() for t in text.split(",") if t.strip())
