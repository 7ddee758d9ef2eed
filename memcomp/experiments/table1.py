"""Table 1: one-shot rare symbols in the digit-sum task, weight decay on and off.

Ten rare symbols (labelled 0-9, one image each) appear once each in training, mixed into the
sum-of-three-digits task (:func:`memcomp.data.build_rare_symbol_task`). Test rows hold two
rare symbols that never shared a training row, each in the position where it was seen, plus
one ordinary digit. Each architecture is
trained with weight decay 0 (free to memorize the ten one-shot rows) and with weight decay
switched on; the paper reports test / train loss for 0 and 0.5.

Weight decay (our choice, stated in the book): the optimizer's coupled L2 term of
:mod:`memcomp.nets.train` (Adam's ``weight_decay``: ``weight_decay * theta`` added to the
gradient), on every parameter — the literal reading of "weight decay 0.5" in PyTorch.

Records (one per architecture, weight decay and seed): ``test_loss`` (MSE on the rare-symbol
pair test, each symbol in the slot where it was seen), ``test_loss_moved`` (the same pairs with
every symbol moved to a slot where it was never seen), ``train_loss`` (all training rows), ``train_loss_rare`` (the ten one-shot rows),
``train_loss_ordinary`` (the other rows), ``in_test_loss`` (ordinary test rows), ``train_seconds``,
``train_loss_by_largest_digit`` (the other rows grouped by their largest digit d = 0..9, which
under the Zipf law is the row's rarest one; see :func:`loss_by_largest_digit`) and
``train_digit_draws`` (how many training slots hold each digit).
Run ``s`` uses seed ``seed + s`` for the data, the initial weights and the minibatch order.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from memcomp.checks import check_choice, check_float, check_int
from memcomp.config import progress, resolve_device, resolve_scale, set_threads
from memcomp.experiments.neural_config import add_network_arguments, check_network_fields, network_overrides, parse_numbers

DESCRIPTION = "Table 1: one-shot rare symbols; test/train loss with weight decay 0 and 0.5"

ALL_ARCHITECTURES = ("sum", "linear", "two_layer", "cross_channel")
COMPOSING = ("sum", "linear", "two_layer")
ARCH_LABELS = {"sum": "Sum", "linear": "Linear", "two_layer": "2-layer", "cross_channel": "Cross-channel"}

#: The paper's Table 1 (Omniglot symbols, ResNet-18, 32,000 samples): (test, train) loss.
PAPER_TABLE1: dict[str, dict[float, tuple[float, float]]] = {
    "sum": {0.0: (0.1760, 0.0004), 0.5: (2.8744, 0.0245)},
    "linear": {0.0: (0.1662, 0.0004), 0.5: (1.5539, 0.0505)},
    "two_layer": {0.0: (0.1351, 0.0010), 0.5: (0.6447, 0.0264)},
    "cross_channel": {0.0: (22.9671, 0.0023), 0.5: (23.6506, 0.0375)},
}


@dataclass(frozen=True)
class Table1Config:
    """Everything that defines one Table 1 run.

    ``weight_decays`` are trained for every architecture in ``architectures``;
    ``curve_weight_decays`` (extra points of the weight-decay curve) only for
    ``curve_architectures``.
    """

    scale: str
    architectures: tuple[str, ...]
    weight_decays: tuple[float, ...]
    curve_weight_decays: tuple[float, ...]
    curve_architectures: tuple[str, ...]
    encoder: str
    feature_dim: int
    width: int | None
    n_train: int
    n_test_pairs: int
    n_test_in: int
    zipf_exponent: float
    symbols: str
    images_per_symbol: int
    digit_images_per_class: int | None
    seeds: int
    seed: int
    epochs: int
    batch_size: int
    lr: float
    source: str
    device: str | None = None

    def __post_init__(self) -> None:
        check_network_fields(self, self.architectures + self.curve_architectures)
        if not self.weight_decays:
            raise ValueError("weight_decays must hold at least one value; got ()")
        for name in ("weight_decays", "curve_weight_decays"):
            values = getattr(self, name)
            for w in values:
                check_float(name, w, low=0.0, high=1000.0)
            if len(set(values)) != len(values):
                raise ValueError(f"{name} must not repeat a value; got {values!r}")
        check_int("n_train", self.n_train, low=10 * self.images_per_symbol + 1, high=10_000_000)
        check_int("n_test_pairs", self.n_test_pairs, low=1, high=10_000_000)
        check_int("n_test_in", self.n_test_in, low=0, high=10_000_000)
        check_choice("symbols", self.symbols, ("rendered", "omniglot"))
        check_int("images_per_symbol", self.images_per_symbol, low=1, high=20)
        if self.digit_images_per_class is not None:
            check_int("digit_images_per_class", self.digit_images_per_class, low=1, high=10_000_000)
        self.train_config(0, 0.0)  # validates epochs, batch_size, lr

    def train_config(self, seed: int, weight_decay: float):
        """The :class:`memcomp.nets.TrainConfig` of one run (Adam, cosine schedule, coupled L2)."""
        from memcomp.nets.train import TrainConfig

        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=weight_decay,
            optimizer="adam",
            seed=seed,
            device=self.device,
        )

    def runs(self) -> list[tuple[str, float]]:
        """(architecture, weight decay) pairs trained for each seed, in order."""
        jobs = [(a, w) for a in self.architectures for w in self.weight_decays]
        jobs += [(a, w) for a in self.curve_architectures for w in self.curve_weight_decays if (a, w) not in jobs]
        return jobs

    def build_task(self, seed: int):
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
    2 seeds; weight decay 0 and 0.5 for all four architectures, plus 0.05, 0.1, 0.2 for Sum.
    ``paper`` (a GPU): ResNet-18, 32,000 training rows from the whole pool; the curve points
    for all three composing models.
    """
    scale = resolve_scale(scale)
    if scale == "fast":
        base = Table1Config(
            scale="fast",
            architectures=ALL_ARCHITECTURES,
            weight_decays=(0.0, 0.5),
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
            source="bundled",
        )
    else:
        base = Table1Config(
            scale="paper",
            architectures=ALL_ARCHITECTURES,
            weight_decays=(0.0, 0.5),
            curve_weight_decays=(0.05, 0.1, 0.2),
            curve_architectures=COMPOSING,
            encoder="resnet18",
            feature_dim=512,
            width=None,
            n_train=32_000,
            n_test_pairs=450,
            n_test_in=2000,
            zipf_exponent=2.0,
            symbols="rendered",
            images_per_symbol=1,
            digit_images_per_class=None,
            seeds=1,
            seed=0,
            epochs=30,
            batch_size=256,
            lr=1e-3,
            source="bundled",
        )
    return replace(base, **overrides) if overrides else base


def run_table1(config: Table1Config, *, keep_models: bool = False) -> dict[str, Any]:
    """Train every (architecture, weight decay) of ``config.runs()`` for every seed.

    Returns the JSON payload ``{"experiment", "config", "device", "seconds", "records"}``; with
    ``keep_models=True`` also ``"models"``: {(architecture, weight_decay, seed): trained model}
    and ``"tasks"``: {seed: task} (not JSON; for the influence measurements of the book).
    """
    if not isinstance(config, Table1Config):
        raise ValueError(f"config must be a Table1Config; got {type(config).__name__}")
    from memcomp.nets.models import build_model
    from memcomp.nets.train import evaluate, train_model

    device = resolve_device(config.device)
    start = time.perf_counter()
    records: list[dict[str, Any]] = []
    models: dict[tuple, Any] = {}
    tasks: dict[int, Any] = {}
    runs = config.runs()
    jobs = [(s, a, w) for s in range(config.seeds) for a, w in runs]
    for s, arch, wd in progress(jobs, desc="table1", total=len(jobs), leave=True):
        seed = config.seed + s
        if seed not in tasks:
            if tasks and not keep_models:
                tasks.clear()
            tasks[seed] = config.build_task(seed)
        task = tasks[seed]
        model = build_model(arch, config.encoder, config.feature_dim, width=config.width, seed=seed)
        cfg = replace(config.train_config(seed, wd), device=device)
        result = train_model(model, task.train, cfg, desc=f"{arch}, weight decay {wd:g}")
        err = row_errors(model, task.train)
        one_shot = np.zeros(len(err), bool)
        one_shot[task.rare_rows] = True
        records.append(
            {
                "architecture": arch,
                "weight_decay": float(wd),
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
        )
        if keep_models:
            models[(arch, float(wd), seed)] = model
        else:
            del model
    payload: dict[str, Any] = {
        "experiment": "table1",
        "config": asdict(config),
        "device": device,
        "seconds": time.perf_counter() - start,
        "records": records,
    }
    if keep_models:
        payload["models"] = models
        payload["tasks"] = tasks
    return payload


def row_errors(model: Any, split: Any) -> np.ndarray:
    """Squared error (f(x_i) - y_i)^2 of every row of ``split``, float64 (N,)."""
    from memcomp.nets.influence import predict

    return (predict(model, split) - split.target.astype(np.float64)) ** 2


def loss_by_largest_digit(split: Any, errors: np.ndarray) -> list[float | None]:
    """Mean of the per-row ``errors`` (see :func:`row_errors`) over the rows of ``split`` that hold
    no rare symbol, grouped by the row's largest digit: entry d is the mean over rows with
    max(digits) = d (None where there is none).

    Under the Zipf law P(j) ~ (j + 1)^-2 a larger digit is a rarer one, so entry d is the loss
    on the rows whose rarest class is d: plotted against ``split.digit_draws()[d]`` it shows how
    the fit depends on how often a row's rarest content was seen (the one-shot rows are the
    extreme, seen once).
    """
    errors = np.asarray(errors, dtype=np.float64)
    if errors.shape != (len(split),):
        raise ValueError(f"errors must have shape ({len(split)},), one per row of split; got {errors.shape}")
    largest = np.where(split.rare.any(axis=1), -1, split.digits.max(axis=1))
    return [float(errors[largest == d].mean()) if np.any(largest == d) else None for d in range(10)]


def run_table1_influence(
    config: Table1Config, payload: Mapping[str, Any], *, n_ordinary: int, architecture: str = "sum"
) -> list[dict[str, Any]]:
    """Leave-one-out self-influence (:func:`memcomp.nets.influence.leave_one_out`) of every
    one-shot row and of ``n_ordinary`` ordinary rows (drawn with the seed), for each seed of
    ``config`` on that seed's task, at the smallest and the largest of ``config.weight_decays``.

    ``payload`` is the result of ``run_table1(config, keep_models=True)``; its models serve as
    the full-data references, so this costs ``seeds * 2 * (10 * images_per_symbol + n_ordinary)``
    trainings.
    """
    from memcomp.nets.influence import leave_one_out, pick_rows

    if "models" not in payload or "tasks" not in payload:
        raise ValueError("payload must come from run_table1(config, keep_models=True)")
    check_choice("architecture", architecture, config.architectures)
    records: list[dict[str, Any]] = []
    for s in range(config.seeds):
        seed = config.seed + s
        task = payload["tasks"][seed]
        _, ordinary = pick_rows(task, 0, n_ordinary, seed=seed)
        rows = np.concatenate([task.rare_rows, ordinary])
        for wd in sorted({min(config.weight_decays), max(config.weight_decays)}):
            records += leave_one_out(
                task,
                rows,
                config=replace(config.train_config(seed, wd), device=resolve_device(config.device)),
                architecture=architecture,
                encoder=config.encoder,
                feature_dim=config.feature_dim,
                width=config.width,
                seeds=(seed,),
                reference={seed: payload["models"][(architecture, float(wd), seed)]},
            )
    return records


# --------------------------------------------------------------------------- summaries


def table1_summary(records: Sequence[Mapping[str, Any]], key: str = "test_loss") -> dict[str, dict[float, float]]:
    """{architecture: {weight_decay: mean of ``key`` over seeds}}, in record order."""
    if not records:
        raise ValueError("records must hold at least one run; got none")
    out: dict[str, dict[float, list[float]]] = {}
    for r in records:
        if r.get(key) is None:
            continue
        out.setdefault(r["architecture"], {}).setdefault(float(r["weight_decay"]), []).append(float(r[key]))
    return {a: {w: float(np.mean(v)) for w, v in sorted(d.items())} for a, d in out.items()}


def loss_by_frequency(records: Sequence[Mapping[str, Any]], architecture: str, weight_decay: float) -> tuple[np.ndarray, np.ndarray]:
    """(draws, loss), each shape (10,), means over seeds: ``draws[d]`` how many training slots
    hold digit d and ``loss[d]`` the training MSE on the rows whose largest digit is d (nan where
    no seed has such a row), for one architecture and weight decay."""
    chosen = [r for r in records if r["architecture"] == architecture and float(r["weight_decay"]) == float(weight_decay)]
    if not chosen:
        raise ValueError(f"records hold no run of architecture {architecture!r} with weight_decay {weight_decay!r}")
    if any(r.get("train_loss_by_largest_digit") is None for r in chosen):
        raise ValueError("records must have train_loss_by_largest_digit (written by run_table1)")
    draws = np.mean([r["train_digit_draws"] for r in chosen], axis=0)
    loss = np.array([[np.nan if v is None else v for v in r["train_loss_by_largest_digit"]] for r in chosen], float)
    return draws, np.array([np.nan if np.all(np.isnan(c)) else np.nanmean(c) for c in loss.T])


def plot_loss_by_frequency(payload: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, architectures: Sequence[str] = COMPOSING, axes=None):
    """One panel per architecture: training MSE against the share of the training digits that
    the row's rarest class holds (log-log), for weight decay 0 and the largest weight decay:
    digits 0-9 as a line (rows grouped by their largest digit), the one-shot symbol rows as a
    star at the share of a single slot."""
    import matplotlib.pyplot as plt

    records = payload["records"] if isinstance(payload, Mapping) else payload
    wds = sorted({float(r["weight_decay"]) for r in records})
    if axes is None:
        fig, axes = plt.subplots(1, len(architectures), figsize=(3.6 * len(architectures), 3.6), sharey=True, squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    rare = table1_summary(records, "train_loss_rare")
    for ax, arch in zip(axes, architectures):
        for wd, color in ((wds[0], "C0"), (wds[-1], "C3")):
            draws, loss = loss_by_frequency(records, arch, wd)
            share = draws / draws.sum()
            ax.plot(share, loss, "o-", color=color, label=f"digit rows, WD {wd:g}")
            for d in (0, 9):
                if np.isfinite(loss[d]):
                    ax.annotate(str(d), (share[d], loss[d]), textcoords="offset points", xytext=(3, 3), fontsize=7)
            ax.plot([1 / draws.sum()], [rare[arch][wd]], "*", ms=12, color=color, label=f"one-shot rows, WD {wd:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("share of the digits: row's rarest class")
        ax.set_title(ARCH_LABELS.get(arch, arch))
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("training MSE")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def table1_markdown(payload: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, paper: bool = True) -> str:
    """The table as markdown: test / train loss (means over seeds) for weight decays 0 and the
    largest table value, beside the paper's numbers when ``paper``."""
    records = payload["records"] if isinstance(payload, Mapping) else payload
    test, train = table1_summary(records, "test_loss"), table1_summary(records, "train_loss")
    wds = sorted({float(r["weight_decay"]) for r in records})
    lo, hi = wds[0], wds[-1]
    head = f"| model | WD = {lo:g}: test / train | WD = {hi:g}: test / train | test ratio |"
    sep = "|---|---|---|---|"
    if paper:
        head += " paper WD = 0 | paper WD = 0.5 |"
        sep += "---|---|"
    lines = [head, sep]
    for arch in test:
        if lo not in test[arch] or hi not in test[arch]:
            continue
        row = (
            f"| {ARCH_LABELS.get(arch, arch)} | {test[arch][lo]:.3f} / {train[arch][lo]:.4f} "
            f"| {test[arch][hi]:.3f} / {train[arch][hi]:.4f} | {test[arch][hi] / test[arch][lo]:.1f}x |"
        )
        if paper:
            p = PAPER_TABLE1.get(arch)
            row += f" {p[0.0][0]:.4f} / {p[0.0][1]:.4f} | {p[0.5][0]:.4f} / {p[0.5][1]:.4f} |" if p else " | |"
        lines.append(row)
    return "\n".join(lines)


def influence_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    """Leave-one-out results as markdown: per weight decay and kind of row, the mean (min to max)
    of the self-influence, and for one-shot rows the test-pair loss with and without the row."""
    from memcomp.nets.influence import summarize_influence

    mem = summarize_influence(records, "self_influence")
    full = summarize_influence(records, "pair_loss_full")
    loo = summarize_influence(records, "pair_loss_loo")
    lines = [
        "| model | WD | rows | rows x seeds | self-influence: mean (min to max) | test-pair loss with / without the row |",
        "|---|---|---|---|---|---|",
    ]
    for (arch, wd, kind), v in sorted(mem.items()):
        pair = f"{full[(arch, wd, kind)]['mean']:.2f} / {loo[(arch, wd, kind)]['mean']:.2f}" if (arch, wd, kind) in full else "-"
        lines.append(
            f"| {ARCH_LABELS.get(arch, arch)} | {wd:g} | {'one-shot' if kind == 'rare' else 'ordinary'} | {v['count']} "
            f"| {v['mean']:.2f} ({v['min']:.2f} to {v['max']:.2f}) | {pair} |"
        )
    return "\n".join(lines)


def plot_table1(payload: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, axes=None):
    """Two panels against weight decay, one line per architecture (means over seeds, log y):
    the rare-symbol pair test loss, and the training loss (all rows, solid; the ten one-shot
    rows, dotted). Weight decay 0 is drawn at the left edge of a symlog x axis."""
    import matplotlib.pyplot as plt

    records = payload["records"] if isinstance(payload, Mapping) else payload
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    else:
        fig = axes[0].figure
    test = table1_summary(records, "test_loss")
    train = table1_summary(records, "train_loss")
    rare = table1_summary(records, "train_loss_rare")
    for arch, curve in test.items():
        w = np.array(list(curve))
        (line,) = axes[0].plot(w, list(curve.values()), marker="o", label=ARCH_LABELS.get(arch, arch))
        axes[1].plot(w, [train[arch][x] for x in w], marker="o", color=line.get_color(), label=f"{ARCH_LABELS.get(arch, arch)}: all rows")
        if arch in rare:
            axes[1].plot(w, [rare[arch][x] for x in w], marker="x", ls=":", color=line.get_color(), label=f"{ARCH_LABELS.get(arch, arch)}: one-shot rows")
    for ax, title in zip(axes, ("Test pairs of two rare symbols", "Training loss")):
        ax.set_xscale("symlog", linthresh=0.05)
        ax.set_yscale("log")
        ax.set_xlabel("weight decay (coupled L2, Adam)")
        ax.set_ylabel("mean squared error")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
        help="also measure leave-one-out self-influence (Sum model, weight decay 0 and 0.5) of every "
        "one-shot row and K ordinary rows per seed; costs 2 * (10 + K) trainings per seed",
    )


def run_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``memcomp reproduce table1``: writes ``table1.json`` and ``table1.png``
    and prints the markdown table."""
    curve = parse_numbers("curve", args.curve, float, "0.05,0.1")
    overrides = network_overrides(
        args, test_size_field="n_test_pairs", n_test_in=args.test_in_size, symbols=args.symbols, curve_weight_decays=curve
    )
    if args.digit_images is not None:
        text = args.digit_images.strip()
        if not (text == "all" or text.isdigit()):
            raise ValueError(f"digit_images must be a positive integer or 'all'; got {args.digit_images!r}")
        overrides["digit_images_per_class"] = None if text == "all" else int(text)
    out = Path(args.out)
    start = time.perf_counter()
    config = table1_config(args.scale, **overrides)
    resolve_device(config.device)  # fail early on cuda without a GPU
    set_threads()  # $MEMCOMP_THREADS or the number of cores
    influence = args.influence
    if influence is not None:
        check_int("influence", influence, low=0, high=config.n_train - 10 * config.images_per_symbol)
        if "sum" not in config.architectures:
            raise ValueError("influence needs the sum architecture among the trained architectures")
    payload = run_table1(config, keep_models=influence is not None)
    if influence is not None:
        payload["influence"] = run_table1_influence(config, payload, n_ordinary=influence)
        payload["seconds"] = time.perf_counter() - start
        del payload["models"], payload["tasks"]
    from memcomp.results import write_json, write_png

    write_json(out / "table1.json", payload)
    write_png(out / "table1.png", plot_table1(payload))
    print(table1_markdown(payload))
    if influence is not None:
        print(influence_markdown(payload["influence"]))
    return payload
