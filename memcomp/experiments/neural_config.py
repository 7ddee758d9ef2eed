"""Validation shared by the neural experiments' configurations (Figure 2, Table 1)."""

from __future__ import annotations

from typing import Any, Iterable

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
