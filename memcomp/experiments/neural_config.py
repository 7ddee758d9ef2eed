"""What the neural experiments (Figure 2, Table 1) share: config validation and the
command-line options common to both."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable, Iterable

from memcomp.checks import check_choice, check_float, check_int, check_seed


def check_network_fields(config: Any, architectures: Iterable[str]) -> None:
    """Check the fields every neural experiment config has: scale, architectures, encoder,
    feature_dim, width, zipf_exponent, seeds, seed, source and device.

    ``architectures`` is every architecture the config trains (first ones must be non-empty
    in ``config.architectures``).
    """
    from memcomp.nets.encoders import ENCODERS
    from memcomp.nets.models import ARCHITECTURES

    check_choice("scale", config.scale, ("fast", "paper"))
    if not config.architectures:
        raise ValueError("architectures must name at least one architecture; got ()")
    for a in architectures:
        check_choice("architectures", a, ARCHITECTURES)
    check_choice("encoder", config.encoder, ENCODERS)
    check_int("feature_dim", config.feature_dim, low=1, high=65536)
    if config.width is not None:
        check_int("width", config.width, low=2, high=4096)
    check_float("zipf_exponent", config.zipf_exponent, low=0.0, high=20.0)
    check_int("seeds", config.seeds, low=1, high=1000)
    check_seed("seed", config.seed)
    check_choice("source", config.source, ("bundled", "full"))
    if config.device is not None:
        check_choice("device", config.device, ("cpu", "cuda", "auto"))


def add_network_arguments(parser: argparse.ArgumentParser, *, test_size_help: str) -> None:
    """The options of every neural ``memcomp reproduce`` command (see :func:`network_overrides`)."""
    parser.add_argument("--scale", choices=("fast", "paper"), default=None, help="preset (default: $MEMCOMP_SCALE or fast)")
    parser.add_argument("--seeds", type=int, default=None, help="runs per setting (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default=None, help="default: $MEMCOMP_DEVICE or cpu")
    parser.add_argument(
        "--architectures", default=None, help="comma-separated subset of sum,linear,two_layer,cross_channel (default: all four)"
    )
    parser.add_argument("--encoder", default=None, help="override the preset's encoder: small_cnn, plain_cnn or resnet18")
    parser.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    parser.add_argument("--train-size", type=int, default=None, help="override the preset's number of training samples")
    parser.add_argument("--test-size", type=int, default=None, help=test_size_help)
    parser.add_argument("--source", choices=("bundled", "full"), default=None, help="MNIST source (default: bundled)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results/)")


def network_overrides(args: argparse.Namespace, *, test_size_field: str, **extra: Any) -> dict[str, Any]:
    """Config overrides from the options of :func:`add_network_arguments` (``--test-size``
    sets ``test_size_field``) and ``extra``; options left unset keep the preset's value.
    Also checks that ``--out`` is not an existing file."""
    if Path(args.out).is_file():
        raise ValueError(f"out must be a directory; got the file {str(args.out)!r}")
    overrides: dict[str, Any] = {"seed": args.seed, "device": args.device}
    given = {
        "seeds": args.seeds,
        "architectures": parse_names("architectures", args.architectures),
        "encoder": args.encoder,
        "epochs": args.epochs,
        "n_train": args.train_size,
        test_size_field: args.test_size,
        "source": args.source,
        **extra,
    }
    overrides.update({k: v for k, v in given.items() if v is not None})
    return overrides


def parse_numbers(name: str, text: str | None, kind: Callable[[str], Any], example: str) -> tuple | None:
    """``"1,2,3"`` as a tuple of ``kind`` (None stays None; ``""`` gives ``()``); a clear error
    naming ``name`` otherwise."""
    if text is None:
        return None
    try:
        return tuple(kind(t) for t in parse_names(name, text))
    except ValueError:
        raise ValueError(f"{name} must be comma-separated numbers such as {example}; got {text!r}") from None


def parse_names(name: str, text: str | None) -> tuple[str, ...] | None:
    """``"a,b"`` as ``("a", "b")`` (None stays None); the config checks the names themselves."""
    if text is None:
        return None
    return tuple(t.strip() for t in text.split(",") if t.strip())
