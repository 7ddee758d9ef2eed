"""Table 1: one-shot rare symbols in the digit-sum task, weight decay on and off.

Ten rare symbols (labelled 0-9, one image each) appear once each in training, mixed into the
sum-of-three-digits task (:func:`memcomp.data.build_rare_symbol_task`). Test rows hold two
rare symbols that never shared a training row, each in the position where it was seen, plus
one ordinary digit. Each architecture is trained with weight decay 0 (free to memorize the
ten one-shot rows) and with weight decay switched on; the paper reports test / train loss
for 0 and 0.5.

Weight decay: ``config.weight_decay_mode`` picks one of three readings of "weight decay 0.5"
(:mod:`memcomp.nets.train`): coupled L2 on every parameter (``l2``), coupled L2 on weights
only (``l2_no_norm``), or AdamW's decoupled decay (``decoupled``). Every record names it.

Records (one per architecture, weight decay and seed): ``weight_decay_mode``, ``test_loss`` (MSE on the rare-symbol
pair test, each symbol in the slot where it was seen), ``test_loss_moved`` (the same pairs with
every symbol moved to a slot where it was never seen), ``train_loss`` (all training rows),
``train_loss_rare`` (the ten one-shot rows), ``train_loss_ordinary`` (the other rows),
``in_test_loss`` (ordinary test rows), ``train_seconds``, ``train_loss_by_largest_digit``
(the other rows grouped by their largest digit d = 0..9, which under the Zipf law is the
row's rarest one; see :func:`~memcomp.experiments.table1_report.loss_by_largest_digit`) and
``train_digit_draws`` (how many training slots hold each digit).
Run ``s`` uses seed ``seed + s`` for the data, the initial weights and the minibatch order.

This module holds the configuration, the runner and the command; the report (summaries,
markdown, the paper's numbers) is :mod:`memcomp.experiments.table1_report`, the leave-one-out
runner :mod:`memcomp.experiments.table1_influence`, the figures :mod:`memcomp.plots.neural`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from memcomp.checks import ParameterError, ParameterTypeError, check_choice, check_float, check_int
from memcomp.config import progress, resolve_device, resolve_scale, set_threads
from memcomp.experiments.neural_config import (
    NeuralConfig,
    add_network_arguments,
    flag_names,
    network_overrides,
    parse_names,
    parse_numbers,
)
from memcomp.experiments.table1_report import (
    PAPER_TABLE1,
    influence_markdown,
    loss_by_frequency,
    loss_by_largest_digit,
    table1_markdown,
    table1_summary,
)
from memcomp.grid import add_grid_arguments, grid_options

__all__ = [
    "DESCRIPTION",
    "PAPER_TABLE1",
    "Table1Config",
    "Table1Result",
    "influence_markdown",
    "loss_by_frequency",
    "loss_by_largest_digit",
    "run_table1",
    "table1_config",
    "table1_markdown",
    "table1_summary",
]

DESCRIPTION = "Table 1: one-shot rare symbols; test/train loss with weight decay 0 and 0.5"


@dataclass(frozen=True, kw_only=True)
class Table1Config(NeuralConfig):
    """Everything that defines one Table 1 run: the shared :class:`NeuralConfig` plus

    Parameters
    ----------
    weight_decays : tuple of float
        Trained for every architecture in ``architectures``; the table's columns.
    curve_weight_decays : tuple of float
        Extra points of the weight-decay curve, trained only for ``curve_architectures``.
    curve_architectures : tuple of str
        Architectures of the curve.
    n_test_pairs, n_test_in : int
        Test rows of two rare symbols; ordinary test rows (may be 0).
    symbols : {"rendered", "omniglot"}
        The rare symbols.
    images_per_symbol : int
        One-shot rows per symbol (1 to 20).
    digit_images_per_class : int or None
        MNIST images per digit class the training rows draw from (None: the whole pool).
    """

    weight_decays: tuple[float, ...]
    curve_weight_decays: tuple[float, ...] = ()
    curve_architectures: tuple[str, ...] = ()
    n_test_pairs: int
    n_test_in: int
    symbols: str = "rendered"
    images_per_symbol: int = 1
    digit_images_per_class: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("weight_decays", "curve_weight_decays"):
            values = getattr(self, name)
            if not isinstance(values, tuple):
                raise ParameterError(name, f"{name} must be a tuple of numbers; got {values!r}")
            for w in values:
                check_float(name, w, low=0.0, high=1000.0)
            if len(set(values)) != len(values):
                raise ParameterError(name, f"{name} must not repeat a value; got {values!r}")
        if not self.weight_decays:
            raise ParameterError("weight_decays", "weight_decays must hold at least one value; got ()")
        check_int("images_per_symbol", self.images_per_symbol, low=1, high=20)
        check_int("n_train", self.n_train, low=10 * self.images_per_symbol + 1, high=10_000_000)
        check_int("n_test_pairs", self.n_test_pairs, low=1, high=10_000_000)
        check_int("n_test_in", self.n_test_in, low=0, high=10_000_000)
        check_choice("symbols", self.symbols, ("rendered", "omniglot"))
        if self.digit_images_per_class is not None:
            check_int("digit_images_per_class", self.digit_images_per_class, low=1, high=10_000_000)

    def all_architectures(self) -> tuple[str, ...]:
        """Every architecture this config trains (the table's and the curve's)."""
        return self.architectures + self.curve_architectures

    def runs(self) -> list[tuple[str, float]]:
        """(architecture, weight decay) pairs trained for each seed, in order."""
        jobs = [(a, w) for a in self.architectures for w in self.weight_decays]
        jobs += [(a, w) for a in self.curve_architectures for w in self.curve_weight_decays if (a, w) not in jobs]
        return jobs

    def build_task(self, seed: int) -> Any:
        """The :class:`memcomp.data.RareSymbolTask` of seed ``seed``."""
        from memcomp.data.digitsum import build_rare_symbol_task

        return build_rare_symbol_task(
            n_train=self.n_train,
            n_test_pairs=self.n_test_pairs,
            n_test_in=self.n_test_in,
            seed=seed,
            symbols=self.symbols,
            images_per_symbol=self.images_per_symbol,
            zipf_exponent=self.zipf_exponent,
            source=self.source,
            digit_images_per_class=self.digit_images_per_class,
        )


def table1_config(scale: str | None = None, **overrides: Any) -> Table1Config:
    """The preset for ``scale``, with any field replaced by ``overrides``.

    ``fast`` (a CPU, about 3 minutes on 2 cores): the small CNN without normalisation
    (``plain_cnn``, width 16, 256 features), 1,000 training rows whose digits come from 190
    images per class (so each 0 image recurs about 10 times, as at the paper's size), 40 epochs,
    2 seeds; weight decay 0 and 0.5 for all four architectures, plus 0.05, 0.1, 0.2 for Sum,
    read as AdamW's decoupled decay (``weight_decay_mode="decoupled"``: of the three readings it
    is the one whose numbers follow the paper's pattern; the Table 1 chapters compare them).
    ``paper`` (a GPU) differs only where written below: ResNet-18, 32,000 training rows from
    the whole pool, one seed, the curve points for all three composing models.

    Raises
    ------
    ValueError
        Naming the field, when a value is out of range.
    """
    scale = resolve_scale(scale)
    from memcomp.nets.architectures import ARCHITECTURES, COMPOSING

    fast = Table1Config(
        scale="fast",
        architectures=ARCHITECTURES,
        weight_decays=(0.0, 0.5),
        weight_decay_mode="decoupled",
        curve_weight_decays=(0.05, 0.1, 0.2),
        curve_architectures=("sum",),
        encoder="plain_cnn",
        feature_dim=256,
        width=16,
        n_train=1000,
        n_test_pairs=450,
        n_test_in=500,
        zipf_exponent=2.0,
        symbols="rendered",
        images_per_symbol=1,
        digit_images_per_class=190,
        seeds=2,
        seed=0,
        epochs=40,
        batch_size=32,
        lr=2e-3,
    )
    if scale == "fast":
        base = fast
    else:
        base = replace(
            fast,
            scale="paper",
            curve_architectures=COMPOSING,
            encoder="resnet18",
            feature_dim=512,
            width=None,
            n_train=32_000,
            n_test_in=2000,
            digit_images_per_class=None,
            seeds=1,
            epochs=30,
            batch_size=256,
            lr=1e-3,
        )
    return replace(base, **overrides) if overrides else base


@dataclass(frozen=True)
class Table1Result:
    """What :func:`run_table1` returns.

    Attributes
    ----------
    config : Table1Config
        The configuration that ran.
    records : list of dict
        One tidy record per (seed, architecture, weight decay); see the module docstring.
    device : str
        Where the networks trained.
    environment : dict
        See :func:`memcomp.results.environment`.
    seconds : float
        Wall time of the whole run.
    models : dict
        ``{(architecture, weight_decay, seed): trained model}`` with ``keep_models=True``,
        else empty.
    tasks : dict
        ``{seed: RareSymbolTask}`` with ``keep_models=True``, else empty.
    influence : list of dict or None
        Leave-one-out records, when measured (:func:`memcomp.experiments.table1_influence.run_table1_influence`).
    grid : dict or None
        How many cells were computed and reused (:meth:`memcomp.grid.GridResult.summary`),
        when the cells ran through the grid runner.
    """

    config: Table1Config
    records: list[dict[str, Any]]
    device: str
    environment: dict[str, Any]
    seconds: float
    models: dict[tuple[str, float, int], Any] = field(default_factory=dict, repr=False)
    tasks: dict[int, Any] = field(default_factory=dict, repr=False)
    influence: list[dict[str, Any]] | None = None
    grid: dict[str, Any] | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON payload: ``experiment, config, device, environment, seconds, records``
        (and ``influence`` when measured); models and tasks are not part of it."""
        out: dict[str, Any] = {
            "experiment": "table1",
            "config": asdict(self.config),
            "device": self.device,
            "environment": self.environment,
            "seconds": self.seconds,
            "records": self.records,
        }
        if self.grid is not None:
            out["grid"] = self.grid
        if self.influence is not None:
            out["influence"] = self.influence
        return out


def table1_cells(config: Table1Config) -> list[dict[str, Any]]:
    """The grid of independent trainings: one cell per (seed, architecture, weight decay), in
    the order of the records."""
    return [
        {"seed": config.seed + s, "architecture": a, "weight_decay": float(w)}
        for s in range(config.seeds)
        for a, w in config.runs()
    ]


def _train_cell(config: Table1Config, task: Any, cell: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Train one cell's network on ``task``: its record and the trained model."""
    from memcomp.nets.evaluation import evaluate, row_errors
    from memcomp.nets.train import train_model

    seed, arch, wd = cell["seed"], cell["architecture"], cell["weight_decay"]
    model = config.build_model(arch, seed)
    cfg = replace(config.train_config(seed, wd), device=resolve_device(config.device))
    result = train_model(model, task.train, cfg, desc=f"{arch}, weight decay {wd:g}")
    err = row_errors(model, task.train)
    one_shot = np.zeros(len(err), bool)
    one_shot[task.rare_rows] = True
    record = {
        "architecture": arch,
        "weight_decay": float(wd),
        "weight_decay_mode": config.weight_decay_mode,
        "seed": seed,
        "test_loss": evaluate(model, task.test),
        "test_loss_moved": evaluate(model, task.test_moved),
        "train_loss": result.train_loss,
        "train_loss_rare": float(err[one_shot].mean()),
        "train_loss_ordinary": float(err[~one_shot].mean()),
        "in_test_loss": evaluate(model, task.test_in) if len(task.test_in) else None,
        "train_seconds": result.seconds,
        "train_loss_by_largest_digit": loss_by_largest_digit(task.train, err),
        "train_digit_draws": task.train.digit_draws().tolist(),
    }
    return record, model


def table1_cell(config: Table1Config, cell: dict[str, Any]) -> list[dict[str, Any]]:
    """The record of one cell of :func:`table1_cells` (builds the cell's task, then trains)."""
    record, _ = _train_cell(config, config.build_task(cell["seed"]), cell)
    return [record]


def run_table1(
    config: Table1Config,
    *,
    keep_models: bool = False,
    out: Path | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
) -> Table1Result:
    """Train every (architecture, weight decay) of ``config.runs()`` for every seed.

    Parameters
    ----------
    config : Table1Config
        See :func:`table1_config`.
    keep_models : bool
        Keep the trained models and the tasks in the result (for influence measurements);
        the cells then run in this process, one after the other.
    out : path, optional
        Without ``keep_models``: save each finished cell in ``out/cells/`` and reuse the saved
        ones of an earlier run with the same config (:func:`memcomp.grid.run_grid`).
    jobs, scheduler : optional
        Without ``keep_models``: run the cells on a local Dask cluster of ``jobs`` workers, or
        on the Dask scheduler at ``scheduler``.

    Returns
    -------
    Table1Result
        ``.records`` and ``.seconds``; ``.payload()`` is what ``table1.json`` holds.

    Raises
    ------
    TypeError
        If ``config`` is not a :class:`Table1Config`.
    ValueError
        If ``keep_models`` is combined with ``jobs`` or ``scheduler``.
    """
    if not isinstance(config, Table1Config):
        raise ParameterTypeError("config", f"config must be a Table1Config; got {type(config).__name__}")
    from memcomp.results import environment

    device = resolve_device(config.device)
    start = time.perf_counter()
    records: list[dict[str, Any]] = []
    models: dict[tuple[str, float, int], Any] = {}
    tasks: dict[int, Any] = {}
    grid_summary = None
    if keep_models:
        if jobs is not None or scheduler is not None:
            raise ParameterError("keep_models", "keep_models needs the cells in this process; do not combine it with jobs or scheduler")
        cells = table1_cells(config)
        for cell in progress(cells, desc="table1", total=len(cells), leave=True):
            seed = cell["seed"]
            if seed not in tasks:
                tasks[seed] = config.build_task(seed)
            record, model = _train_cell(config, tasks[seed], cell)
            records.append(record)
            models[(cell["architecture"], cell["weight_decay"], seed)] = model
    else:
        from memcomp.grid import run_grid

        grid = run_grid(
            table1_cells(config),
            partial(table1_cell, config),
            key={"experiment": "table1", "config": asdict(config)},
            out=out,
            jobs=jobs,
            scheduler=scheduler,
            desc="table1",
        )
        records, grid_summary = grid.records, grid.summary()
    return Table1Result(
        config=config,
        records=records,
        device=device,
        environment=environment(device, mixed_precision=config.mixed_precision(device)),
        seconds=time.perf_counter() - start,
        models=models,
        tasks=tasks,
        grid=grid_summary,
    )


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``memcomp reproduce table1``."""
    add_network_arguments(parser, test_size_help="override the preset's number of test pairs")
    parser.add_argument("--test-in-size", type=int, default=None, help="override the preset's number of ordinary test rows")
    parser.add_argument("--curve", type=str, default=None, help="comma-separated extra weight decays for the curve ('' for none)")
    parser.add_argument("--symbols", choices=("rendered", "omniglot"), default=None, help="rare symbols (omniglot downloads)")
    parser.add_argument(
        "--digit-images",
        type=str,
        default=None,
        metavar="N|all",
        help="MNIST images per digit class the training rows draw from ('all': the whole pool; default: the preset's)",
    )
    parser.add_argument(
        "--influence",
        type=int,
        default=None,
        metavar="K",
        help="also measure leave-one-out self-influence (weight decay 0 and 0.5) of every one-shot row and K "
        "ordinary rows per seed; costs 2 * (10 + K) trainings per seed and influence architecture",
    )
    parser.add_argument(
        "--influence-architectures",
        type=str,
        default="sum",
        help="comma-separated architectures measured by --influence (default: sum), e.g. sum,cross_channel",
    )
    parser.add_argument(
        "--influence-spread-seeds",
        type=int,
        default=0,
        metavar="S",
        help="with --influence: S more full models per setting, for the seed-to-seed spread of each row's "
        "prediction (default 0)",
    )
    add_grid_arguments(parser)


def _digit_images(text: str | None) -> int | None | str:
    """``--digit-images``: ``"all"`` -> None, ``"N"`` -> N, unset -> ``"preset"``."""
    if text is None:
        return "preset"
    text = text.strip()
    if not (text == "all" or text.isdigit()):
        raise ParameterError("digit_images_per_class", f"digit_images_per_class must be a positive integer or 'all'; got {text!r}")
    return None if text == "all" else int(text)


def run_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``memcomp reproduce table1``: writes ``table1.json`` and ``table1.png``
    and prints the markdown table. The configuration and the output folder are checked
    before any training."""
    from memcomp.results import prepare_out, write_json, write_png

    start = time.perf_counter()
    with flag_names():
        curve = parse_numbers("curve_weight_decays", args.curve, float, "0.05,0.1")
        overrides = network_overrides(
            args, test_size_field="n_test_pairs", n_test_in=args.test_in_size, symbols=args.symbols, curve_weight_decays=curve
        )
        digit_images = _digit_images(args.digit_images)
        if digit_images != "preset":
            overrides["digit_images_per_class"] = digit_images
        config = table1_config(args.scale, **overrides)
        resolve_device(config.device)  # fail early on cuda without a GPU
        influence = args.influence
        influence_archs = parse_names("influence_architectures", args.influence_architectures) or ()
        spread_seeds = check_int("influence_spread_seeds", args.influence_spread_seeds, low=0, high=100)
        if influence is not None:
            check_int("influence", influence, low=0, high=config.n_train - 10 * config.images_per_symbol)
            if not influence_archs:
                raise ParameterError("influence_architectures", "influence_architectures must name at least one architecture")
            for a in influence_archs:
                if a not in config.architectures:
                    raise ParameterError(
                        "influence_architectures",
                        f"influence_architectures must be among the trained architectures {config.architectures} "
                        f"(--architectures); got {a!r}",
                    )
    out = prepare_out(args.out)
    set_threads()  # torch threads: $MEMCOMP_THREADS or every core, fixed before training
    grid = grid_options(args)
    if influence is not None and (grid["jobs"] is not None or grid["scheduler"] is not None):
        raise ParameterError("influence", "--influence runs in this process (it reuses the trained models); drop --jobs/--scheduler")
    if influence is None:
        result = run_table1(config, out=out, **grid)
    else:
        result = run_table1(config, keep_models=True)
    if influence is not None:
        from memcomp.experiments.table1_influence import run_table1_influence

        records = run_table1_influence(
            result, n_ordinary=influence, architectures=influence_archs, spread_seeds=spread_seeds
        )
        result = replace(result, influence=records, seconds=time.perf_counter() - start, models={}, tasks={})
    from memcomp.plots.neural import plot_table1

    payload = result.payload()
    write_json(out / "table1.json", payload)
    write_png(out / "table1.png", plot_table1(result))
    print(table1_markdown(result))
    if result.influence is not None:
        print(influence_markdown(result.influence))
    return payload
