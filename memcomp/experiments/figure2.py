"""Figure 2: sum of three MNIST digits, OOD test loss against the number of 9s in training.

For every rarity setting (``nines_in_train``) and seed, one digit-sum task is built
(:func:`memcomp.data.digitsum.build_digit_sum`; for a fixed seed the training sets are nested
in the number of 9s and the test sets are shared) and each architecture is trained on it
with the square loss. Run ``s`` of a configuration uses seed ``seed + s`` for the data, the
initial weights and the minibatch order.

Each record holds ``train_loss`` (all training rows) and ``train_loss_nines`` (the training rows
that hold a 9, i.e. how well the network fits, or memorizes, the rare 9s; ``None`` with no 9s),
and the test losses split by whether a row's digit combination occurs in training
(:func:`figure2_cell`): the control that tells composition from capacity.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memcomp.checks import ParameterError, ParameterTypeError, check_float, check_int
from memcomp.config import resolve_device, resolve_scale, set_threads
from memcomp.experiments.neural_config import (
    NeuralConfig,
    add_network_arguments,
    flag_names,
    network_overrides,
    parse_numbers,
)
from memcomp.grid import add_grid_arguments, grid_options

if TYPE_CHECKING:  # pragma: no cover
    from memcomp.nets.train import TrainConfig

DESCRIPTION = "Figure 2: sum of three MNIST digits; composing vs cross-channel models as 9 gets rarer"


@dataclass(frozen=True, kw_only=True)
class Figure2Config(NeuralConfig):
    """Everything that defines one Figure 2 run: the shared :class:`NeuralConfig` plus

    Parameters
    ----------
    n_test : int
        Rows of each test set (in-distribution and OOD).
    nines : tuple of int
        Numbers of 9s in training, one task per value (0 to 3 * n_train).
    weight_decay : float
        Weight decay of every run (>= 0), read as ``weight_decay_mode``.
    cross_channel_epoch_factor : int
        The Cross-channel network trains for this many times ``epochs`` (1 to 100). It fits its
        training set more slowly than the composing models; the presets give it the budget that
        makes it fit at least as well, the rows with a 9 included, so that the architectures are
        compared at equal memorization.
    seen_combo_replicas : int
        Test rows per training row with a 9 in the seen-combination control.
    """

    n_test: int
    nines: tuple[int, ...]
    weight_decay: float = 0.0
    cross_channel_epoch_factor: int = 1
    seen_combo_replicas: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("n_test", self.n_test, low=1, high=10_000_000)
        if not isinstance(self.nines, tuple) or not self.nines:
            raise ParameterError("nines", f"nines must be a non-empty tuple of numbers of 9s; got {self.nines!r}")
        for m in self.nines:
            check_int("nines", m, low=0, high=3 * self.n_train)
        check_float("weight_decay", self.weight_decay, low=0.0, high=1000.0)
        check_int("cross_channel_epoch_factor", self.cross_channel_epoch_factor, low=1, high=100)
        check_int("seen_combo_replicas", self.seen_combo_replicas, low=1, high=1000)

    def epochs_for(self, architecture: str) -> int:
        """The training budget of ``architecture``."""
        return self.epochs * (self.cross_channel_epoch_factor if architecture == "cross_channel" else 1)

    def train_config(self, seed: int, weight_decay: float | None = None) -> TrainConfig:
        """The :class:`memcomp.nets.TrainConfig` of one run (default: this config's weight decay)."""
        return super().train_config(seed, self.weight_decay if weight_decay is None else weight_decay)


def figure2_config(scale: str | None = None, **overrides: Any) -> Figure2Config:
    """The preset for ``scale``, with any field replaced by ``overrides``.

    ``fast`` (a CPU): the small CNN (LayerNorm, width 16, 64 features), 3,000 training rows,
    15, 60 and 400 nines, 20 epochs (Cross-channel 3 times as many, see ``cross_channel_epoch_factor``), 2 seeds. ``paper`` (a GPU) differs only where written
    below: ResNet-18 with 512 features, 32,000 rows, 10, 100 and 1,000 nines.

    Parameters
    ----------
    scale : {"fast", "paper"}, optional
        Default ``$MEMCOMP_SCALE`` or ``fast``.
    **overrides
        Fields of :class:`Figure2Config`.

    Raises
    ------
    ValueError
        Naming the field, when a value is out of range.
    """
    scale = resolve_scale(scale)
    from memcomp.nets.architectures import ARCHITECTURES

    fast = Figure2Config(
        scale="fast",
        architectures=ARCHITECTURES,
        encoder="small_cnn",
        feature_dim=64,
        width=16,
        n_train=3000,
        n_test=1000,
        zipf_exponent=2.0,
        nines=(15, 60, 400),
        seeds=2,
        seed=0,
        epochs=20,
        cross_channel_epoch_factor=3,
        batch_size=64,
        lr=3e-3,
        weight_decay=0.0,
    )
    if scale == "fast":
        base = fast
    else:
        base = replace(
            fast,
            scale="paper",
            encoder="resnet18",
            feature_dim=512,
            width=None,
            n_train=32_000,
            n_test=2000,
            nines=(10, 100, 1000),
            batch_size=256,
            lr=2e-3,
        )
    return replace(base, **overrides) if overrides else base


def figure2_cells(config: Figure2Config) -> list[dict[str, Any]]:
    """The grid of independent trainings: one cell per (seed, nines, architecture), in the
    order of the records."""
    return [
        {"seed": config.seed + s, "nines": m, "architecture": a}
        for s in range(config.seeds)
        for m in config.nines
        for a in config.architectures
    ]


def figure2_cell(config: Figure2Config, cell: dict[str, Any]) -> list[dict[str, Any]]:
    """Train one architecture on one task (seed, number of 9s) and return its record.

    The record's losses: ``ood_test_loss``, ``in_test_loss`` (split into
    ``in_test_loss_seen_combo`` and ``in_test_loss_unseen_combo``, see
    :mod:`memcomp.data.combinations`), ``seen_combo_test_loss`` (held-out 9 images in the
    digit combinations of the training rows that hold a 9), ``train_loss`` and
    ``train_loss_nines``; ``epochs`` is the training budget the architecture got.
    """
    from memcomp.data.combinations import seen_combination_mask, seen_nines_split
    from memcomp.data.digitsum import build_digit_sum
    from memcomp.nets.evaluation import row_errors
    from memcomp.nets.train import train_model

    seed, nines, arch = cell["seed"], cell["nines"], cell["architecture"]
    task = build_digit_sum(
        n_train=config.n_train,
        n_test=config.n_test,
        zipf_exponent=config.zipf_exponent,
        nines_in_train=nines,
        seed=seed,
        source=config.source,
    )
    nine_rows = np.flatnonzero((task.train.digits == 9).any(axis=1))
    seen = seen_combination_mask(task.test_in, task.train)
    seen_nines = seen_nines_split(task, replicas=config.seen_combo_replicas, seed=seed)
    model = config.build_model(arch, seed)
    train_config = replace(config.train_config(seed), epochs=config.epochs_for(arch), device=resolve_device(config.device))
    result = train_model(model, task.train, train_config, desc=f"{arch}, {nines} nines")
    err_in = row_errors(model, task.test_in)
    err_train = row_errors(model, task.train)

    def mean(err: np.ndarray) -> float | None:
        return float(err.mean()) if err.size else None

    record = {
        "architecture": arch,
        "zipf_exponent": config.zipf_exponent,
        "nines_in_train": task.nines_in_train,
        "seed": seed,
        "epochs": train_config.epochs,
        "weight_decay": config.weight_decay,
        "weight_decay_mode": config.weight_decay_mode,
        "ood_test_loss": mean(row_errors(model, task.test_ood)),
        "seen_combo_test_loss": mean(row_errors(model, seen_nines)) if len(seen_nines) else None,
        "in_test_loss": mean(err_in),
        "in_test_loss_seen_combo": mean(err_in[seen]),
        "in_test_loss_unseen_combo": mean(err_in[~seen]),
        "in_test_seen_combo_share": float(seen.mean()),
        "ood_test_seen_combo_share": float(seen_combination_mask(task.test_ood, task.train).mean()),
        "train_loss": result.train_loss,
        "train_loss_nines": mean(err_train[nine_rows]) if nine_rows.size else None,
        "train_seconds": result.seconds,
        "train_digit_counts": task.train_digit_counts.tolist(),
    }
    return [record]


def run_figure2(
    config: Figure2Config, *, out: Path | None = None, jobs: int | None = None, scheduler: str | None = None
) -> dict[str, Any]:
    """Train every architecture on every rarity setting and seed: the cells of
    :func:`figure2_cells`, run by :func:`memcomp.grid.run_grid`.

    Parameters
    ----------
    config : Figure2Config
        See :func:`figure2_config`.
    out : path, optional
        Save each finished cell in ``out/cells/`` and reuse the saved ones of an earlier run
        with the same config.
    jobs, scheduler : optional
        Run the cells on a local Dask cluster of ``jobs`` workers, or on the Dask scheduler at
        ``scheduler`` (default: one after the other in this process).

    Returns
    -------
    dict
        The JSON payload ``{"experiment", "config", "device", "environment", "seconds",
        "grid", "records"}``, one record per (seed, nines, architecture) (see
        :func:`figure2_cell`); ``grid`` says how many cells were computed and how many reused.

    Raises
    ------
    TypeError
        If ``config`` is not a :class:`Figure2Config`.
    """
    if not isinstance(config, Figure2Config):
        raise ParameterTypeError("config", f"config must be a Figure2Config; got {type(config).__name__}")
    from memcomp.grid import run_grid
    from memcomp.results import environment

    device = resolve_device(config.device)
    start = time.perf_counter()
    grid = run_grid(
        figure2_cells(config),
        partial(figure2_cell, config),
        key={"experiment": "figure2", "config": asdict(config)},
        out=out,
        jobs=jobs,
        scheduler=scheduler,
        desc="figure2",
    )
    return {
        "experiment": "figure2",
        "config": asdict(config),
        "device": device,
        "environment": environment(device, mixed_precision=config.mixed_precision(device)),
        "seconds": time.perf_counter() - start,
        "grid": grid.summary(),
        "records": grid.records,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``memcomp reproduce figure2``."""
    add_network_arguments(parser, test_size_help="override the preset's number of test samples")
    parser.add_argument("--nines", type=str, default=None, help="comma-separated numbers of 9s in training, e.g. 10,30,100")
    parser.add_argument(
        "--cross-channel-epoch-factor",
        type=int,
        default=None,
        metavar="K",
        help="Cross-channel trains K times the epochs of the others (default: the preset's, 3)",
    )
    add_grid_arguments(parser)


def run_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``memcomp reproduce figure2``: writes ``figure2.json`` and ``figure2.png``.

    The configuration and the output folder are checked before any training.
    """
    from memcomp.results import prepare_out, write_json, write_png

    with flag_names():
        nines = parse_numbers("nines", args.nines, int, "10,30,100")
        config = figure2_config(args.scale, **network_overrides(
                args, test_size_field="n_test", nines=nines, cross_channel_epoch_factor=args.cross_channel_epoch_factor
            ))
        resolve_device(config.device)  # fail early on cuda without a GPU
    out = prepare_out(args.out)
    set_threads()  # torch threads: $MEMCOMP_THREADS or every core, fixed before training
    payload = run_figure2(config, out=out, **grid_options(args))
    from memcomp.plots.neural import plot_figure2

    write_json(out / "figure2.json", payload)
    write_png(out / "figure2.png", plot_figure2(payload))
    return payload
