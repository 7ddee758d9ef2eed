"""Figure 2: sum of three MNIST digits, OOD test loss against the number of 9s in training.

For every rarity setting (``nines_in_train``) and seed, one digit-sum task is built
(:func:`memcomp.data.digitsum.build_digit_sum`; for a fixed seed the training sets are nested
in the number of 9s and the test sets are shared) and each architecture is trained on it
with the square loss. Run ``s`` of a configuration uses seed ``seed + s`` for the data, the
initial weights and the minibatch order.

Each record holds ``train_loss`` (all training rows) and ``train_loss_nines`` (the training rows
that hold a 9, i.e. how well the network fits, or memorizes, the rare 9s; ``None`` with no 9s).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from memcomp.checks import check_int
from memcomp.config import progress, resolve_device, resolve_scale, set_threads
from memcomp.experiments.neural_config import add_network_arguments, check_network_fields, network_overrides, parse_numbers

DESCRIPTION = "Figure 2: sum of three MNIST digits; composing vs cross-channel models as 9 gets rarer"


@dataclass(frozen=True)
class Figure2Config:
    """Everything that defines one Figure 2 run."""

    scale: str
    architectures: tuple[str, ...]
    encoder: str
    feature_dim: int
    width: int | None
    n_train: int
    n_test: int
    zipf_exponent: float
    nines: tuple[int, ...]
    seeds: int
    seed: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    augment_shift: int
    source: str
    device: str | None = None

    def __post_init__(self) -> None:
        check_network_fields(self, self.architectures)
        check_int("n_train", self.n_train, low=1, high=10_000_000)
        check_int("n_test", self.n_test, low=1, high=10_000_000)
        if not self.nines:
            raise ValueError("nines must hold at least one number of 9s; got ()")
        for m in self.nines:
            check_int("nines", m, low=0, high=3 * self.n_train)
        self.train_config(0)  # validates epochs, batch_size, lr, weight_decay, augment_shift

    def train_config(self, seed: int):
        from memcomp.nets.train import TrainConfig

        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            optimizer="adam",
            seed=seed,
            device=self.device,
            augment_shift=self.augment_shift,
        )


ALL_ARCHITECTURES = ("sum", "linear", "two_layer", "cross_channel")


def figure2_config(scale: str | None = None, **overrides: Any) -> Figure2Config:
    """The preset for ``scale`` (``fast``: small CNN on a CPU; ``paper``: ResNet-18,
    32,000 samples, a GPU), with any field replaced by ``overrides``."""
    scale = resolve_scale(scale)
    if scale == "fast":
        base = Figure2Config(
            scale="fast",
            architectures=ALL_ARCHITECTURES,
            encoder="small_cnn",
            feature_dim=64,
            width=16,
            n_train=3000,
            n_test=1000,
            zipf_exponent=2.0,
            nines=(60, 150, 400),
            seeds=2,
            seed=0,
            epochs=20,
            batch_size=64,
            lr=3e-3,
            weight_decay=0.0,
            augment_shift=0,
            source="bundled",
        )
    else:
        base = Figure2Config(
            scale="paper",
            architectures=ALL_ARCHITECTURES,
            encoder="resnet18",
            feature_dim=512,
            width=None,
            n_train=32_000,
            n_test=2000,
            zipf_exponent=2.0,
            nines=(10, 100, 1000),
            seeds=2,
            seed=0,
            epochs=20,
            batch_size=256,
            lr=2e-3,
            weight_decay=0.0,
            augment_shift=0,
            source="bundled",
        )
    return replace(base, **overrides) if overrides else base


def run_figure2(config: Figure2Config) -> dict[str, Any]:
    """Train every architecture on every rarity setting and seed; return the JSON payload
    ``{"experiment", "config", "device", "seconds", "records"}`` (one record per run)."""
    if not isinstance(config, Figure2Config):
        raise ValueError(f"config must be a Figure2Config; got {type(config).__name__}")
    from memcomp.data.digitsum import build_digit_sum
    from memcomp.nets.models import build_model
    from memcomp.nets.train import evaluate, train_model

    device = resolve_device(config.device)
    start = time.perf_counter()
    records = []
    jobs = [(s, m) for s in range(config.seeds) for m in config.nines]
    for s, nines in progress(jobs, desc="figure2", total=len(jobs), leave=True):
        seed = config.seed + s
        task = build_digit_sum(
            n_train=config.n_train,
            n_test=config.n_test,
            zipf_exponent=config.zipf_exponent,
            nines_in_train=nines,
            seed=seed,
            source=config.source,
        )
        nine_rows = np.flatnonzero((task.train.digits == 9).any(axis=1))
        for arch in config.architectures:
            model = build_model(arch, config.encoder, config.feature_dim, width=config.width, seed=seed)
            result = train_model(model, task.train, replace(config.train_config(seed), device=device), desc=f"{arch}, {nines} nines")
            records.append(
                {
                    "architecture": arch,
                    "zipf_exponent": config.zipf_exponent,
                    "nines_in_train": task.nines_in_train,
                    "seed": seed,
                    "ood_test_loss": evaluate(model, task.test_ood),
                    "in_test_loss": evaluate(model, task.test_in),
                    "train_loss": result.train_loss,
                    "train_loss_nines": evaluate(model, task.train.subset(nine_rows)) if nine_rows.size else None,
                    "train_seconds": result.seconds,
                    "train_digit_counts": task.train_digit_counts.tolist(),
                }
            )
            del model
    return {
        "experiment": "figure2",
        "config": asdict(config),
        "device": device,
        "seconds": time.perf_counter() - start,
        "records": records,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser, test_size_help="override the preset's number of test samples")
    parser.add_argument("--nines", type=str, default=None, help="comma-separated numbers of 9s in training, e.g. 10,30,100")


def run_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``memcomp reproduce figure2``: writes ``figure2.json`` and ``figure2.png``."""
    nines = parse_numbers("nines", args.nines, int, "10,30,100")
    overrides = network_overrides(args, test_size_field="n_test", nines=nines)
    config = figure2_config(args.scale, **overrides)
    resolve_device(config.device)  # fail early on cuda without a GPU
    set_threads()  # $MEMCOMP_THREADS or the number of cores
    payload = run_figure2(config)
    from memcomp.neural_plots import plot_figure2
    from memcomp.results import write_json, write_png

    out = Path(args.out)
    write_json(out / "figure2.json", payload)
    write_png(out / "figure2.png", plot_figure2(payload))
    return payload
