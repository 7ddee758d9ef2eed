"""Memorization measured, not inferred: leave-one-out self-influence by retraining.

For a training row ``i`` and a training recipe (architecture, :class:`TrainConfig`, seed),
train twice with the same seed (same initial weights, same minibatch generator): once on the
whole training set (``full``) and once without row ``i`` (``loo``). Then

- ``self_influence = loss_loo - loss_full``: how much the squared error on row ``i`` itself
  grows when the model never saw it (Feldman and Zhang 2020 define memorization as this drop
  in performance on an example caused by removing it; here for the square loss). A model that
  memorized row ``i`` has ``loss_full`` near 0 and a large ``loss_loo``.
- ``pred_change = |pred_loo - pred_full|`` on row ``i``.
- For a row holding a rare symbol: the same on the test pairs that contain that symbol
  (``pair_loss_full``, ``pair_loss_loo``, ``pair_influence``, ``pair_pred_change``), i.e.
  how much the *composition* result depends on having seen that one row.
- ``test_in_change``: mean |pred_loo - pred_full| over the ordinary test rows (``test_in``),
  a reference for how much retraining alone moves predictions.

Removing one row also changes which rows share a minibatch after it (the permutation is over
n - 1 rows), so part of any change is plain retraining noise. Two baselines show how large that
part is: ordinary rows, measured the same way, and (with ``spread_seeds``) the seed-to-seed
spread of each row's own prediction with the row kept: ``pred_seed_spread`` and
``loss_seed_spread`` are the standard deviations of the row's prediction and squared error over
the full model and ``spread_seeds`` more full models trained from other seeds (seed + 1000 + k)
on the same data.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from memcomp.checks import ParameterError, ParameterTypeError, check_choice, check_int, check_seed
from memcomp.config import progress
from memcomp.nets.evaluation import predict

__all__ = ["KINDS", "influence_by_seed", "influence_mean", "leave_one_out", "pick_rows", "predict", "summarize_influence"]

KINDS = ("rare", "ordinary")


def pick_rows(task: Any, n_rare: int, n_ordinary: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_rare`` of the task's rare-symbol rows and ``n_ordinary`` ordinary rows (no rare
    symbol), each chosen uniformly at random with ``seed``; returned sorted."""
    n_rare = check_int("n_rare", n_rare, low=0, high=len(task.rare_rows))
    n_train = len(task.train)
    ordinary = np.setdiff1d(np.arange(n_train), task.rare_rows)
    n_ordinary = check_int("n_ordinary", n_ordinary, low=0, high=len(ordinary))
    rng = np.random.default_rng(check_seed("seed", seed))
    rare = np.sort(rng.choice(task.rare_rows, size=n_rare, replace=False))
    return rare, np.sort(rng.choice(ordinary, size=n_ordinary, replace=False))


def _check_rows(rows: Any, n: int) -> list[int]:
    arr = np.asarray(rows)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"rows must be a non-empty 1-D sequence of integer row indices; got {rows!r}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"rows must be row indices in [0, {n - 1}]; got values from {arr.min()} to {arr.max()}")
    if len(np.unique(arr)) != len(arr):
        raise ValueError("rows must not repeat a row")
    return [int(r) for r in arr]


def leave_one_out(
    task: Any,
    rows: Sequence[int],
    *,
    config: Any,
    architecture: str = "sum",
    encoder: str = "small_cnn",
    feature_dim: int = 64,
    width: int | None = None,
    seeds: Sequence[int] = (0,),
    reference: Mapping[int, torch.nn.Module] | None = None,
    spread_seeds: int = 0,
) -> list[dict[str, Any]]:
    """Leave-one-out self-influence of training ``rows`` of a :class:`RareSymbolTask`.

    For every seed ``s`` in ``seeds``: the full model (``reference[s]`` if given, already
    trained on ``task.train`` with the same recipe and seed; else trained here) and one model
    per row trained without that row, all from ``build_model(..., seed=s)`` and
    ``replace(config, seed=s)``. Returns one tidy record per (seed, row) with
    ``architecture, weight_decay, seed, row, kind ('rare' or 'ordinary'), digits, target,
    pred_full, pred_loo, loss_full, loss_loo, self_influence, pred_change, n_pairs,
    pair_loss_full, pair_loss_loo, pair_influence, pair_pred_change, test_in_change``
    (the pair fields are None for ordinary rows, ``test_in_change`` None without ``test_in``),
    and ``pred_seed_spread``, ``loss_seed_spread`` (None when ``spread_seeds`` is 0; see the
    module docstring). Costs ``len(seeds) * (len(rows) + 1 + spread_seeds)`` trainings (minus
    the references given).
    """
    from memcomp.data.digitsum import RareSymbolTask
    from memcomp.nets.models import ARCHITECTURES, build_model
    from memcomp.nets.train import TrainConfig, train_model

    if not isinstance(task, RareSymbolTask):
        raise ParameterTypeError(
            "task", f"task must be a RareSymbolTask (memcomp.data.build_rare_symbol_task); got {type(task).__name__}"
        )
    if not isinstance(config, TrainConfig):
        raise ParameterTypeError("config", f"config must be a TrainConfig; got {type(config).__name__}")
    check_choice("architecture", architecture, ARCHITECTURES)
    n = len(task.train)
    if n < 2:
        raise ValueError(f"task.train must hold at least 2 rows to leave one out; got {n}")
    rows = _check_rows(rows, n)
    spread_seeds = check_int("spread_seeds", spread_seeds, low=0, high=100)
    seeds = [check_seed("seeds", s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed; got ()")
    reference = dict(reference or {})
    for s, model in reference.items():
        if s not in seeds or not isinstance(model, torch.nn.Module):
            raise ValueError(f"reference must map seeds from {seeds} to trained models; got key {s!r}")

    def fresh(seed: int) -> torch.nn.Module:
        return build_model(architecture, encoder, feature_dim, width=width, seed=seed)

    rare_row_set = {int(r) for r in task.rare_rows}
    test = task.test
    has_in = len(task.test_in) > 0
    records: list[dict[str, Any]] = []
    jobs = [(s, r) for s in seeds for r in [None, *rows]]
    full: dict[str, np.ndarray] = {}
    for seed, row in progress(jobs, desc=f"leave-one-out ({architecture})", total=len(jobs), leave=True):
        cfg = replace(config, seed=seed)
        if row is None:  # the full model of this seed
            model = reference.get(seed)
            if model is None:
                model = fresh(seed)
                train_model(model, task.train, cfg, desc=f"full model, seed {seed}")
            full = {"train": predict(model, task.train.subset(rows)), "test": predict(model, test)}
            if has_in:
                full["test_in"] = predict(model, task.test_in)
            others = []
            for k in range(spread_seeds):
                other = fresh(seed + 1000 + k)
                train_model(other, task.train, replace(cfg, seed=seed + 1000 + k), desc=f"full model, seed {seed + 1000 + k}")
                others.append(predict(other, task.train.subset(rows)))
            full["seed_preds"] = np.stack([full["train"], *others])  # (1 + spread_seeds, len(rows))
            continue
        keep = np.ones(n, bool)
        keep[row] = False
        model = fresh(seed)
        train_model(model, task.train.subset(keep), cfg, desc=f"without row {row}, seed {seed}")
        target = float(task.train.target[row])
        p_full = float(full["train"][rows.index(row)])
        p_loo = float(predict(model, task.train.subset([row]))[0])
        rec: dict[str, Any] = {
            "architecture": architecture,
            "weight_decay": float(config.weight_decay),
            "seed": seed,
            "row": row,
            "kind": "rare" if row in rare_row_set else "ordinary",
            "digits": [int(d) for d in task.train.digits[row]],
            "target": target,
            "pred_full": p_full,
            "pred_loo": p_loo,
            "loss_full": (p_full - target) ** 2,
            "loss_loo": (p_loo - target) ** 2,
            "self_influence": (p_loo - target) ** 2 - (p_full - target) ** 2,
            "pred_change": abs(p_loo - p_full),
            "n_pairs": None,
            "pair_loss_full": None,
            "pair_loss_loo": None,
            "pair_influence": None,
            "pair_pred_change": None,
            "test_in_change": None,
            "pred_seed_spread": None,
            "loss_seed_spread": None,
        }
        if spread_seeds:
            preds = full["seed_preds"][:, rows.index(row)]
            rec["pred_seed_spread"] = float(np.std(preds, ddof=1))
            rec["loss_seed_spread"] = float(np.std((preds - target) ** 2, ddof=1))
        if rec["kind"] == "rare":
            slot = int(np.flatnonzero(task.train.rare[row])[0])
            symbol = int(task.train.image_ids[row, slot])
            mask = (test.rare & (test.image_ids == symbol)).any(axis=1)
            rec["n_pairs"] = int(mask.sum())
            if mask.any():
                t = test.target[mask].astype(np.float64)
                pf, pl = full["test"][mask], predict(model, test.subset(np.flatnonzero(mask)))
                rec["pair_loss_full"] = float(np.mean((pf - t) ** 2))
                rec["pair_loss_loo"] = float(np.mean((pl - t) ** 2))
                rec["pair_influence"] = rec["pair_loss_loo"] - rec["pair_loss_full"]
                rec["pair_pred_change"] = float(np.mean(np.abs(pl - pf)))
        if has_in:
            rec["test_in_change"] = float(np.mean(np.abs(predict(model, task.test_in) - full["test_in"])))
        records.append(rec)
        del model
    return records


def summarize_influence(records: Sequence[Mapping[str, Any]], key: str = "self_influence") -> dict[tuple, dict[str, float]]:
    """Mean, min and max of ``key`` per (architecture, weight_decay, kind), over rows and seeds
    (records whose ``key`` is None are skipped)."""
    if not records:
        raise ValueError("records must hold at least one record; got none")
    groups: dict[tuple, list[float]] = {}
    for r in records:
        if r.get(key) is None:
            continue
        groups.setdefault((r["architecture"], r["weight_decay"], r["kind"]), []).append(float(r[key]))
    return {
        k: {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v)), "count": len(v)}
        for k, v in groups.items()
    }


def _influence_values(
    records: Sequence[Mapping[str, Any]], key: str, architecture: str, weight_decay: float, kind: str, seed: int | None
) -> list[float]:
    check_choice("kind", kind, KINDS)
    if records and key not in records[0]:
        raise ParameterError("key", f"key must be a field of the leave-one-out records, one of {sorted(records[0])}; got {key!r}")
    values = [
        float(r[key])
        for r in records
        if r["architecture"] == architecture
        and float(r["weight_decay"]) == float(weight_decay)
        and r["kind"] == kind
        and (seed is None or r["seed"] == seed)
        and r.get(key) is not None
    ]
    if not values:
        have = sorted({(r["architecture"], float(r["weight_decay"]), r["kind"], r["seed"]) for r in records})
        raise ParameterError(
            "architecture/weight_decay/kind/seed",
            f"no records with {key!r} for architecture={architecture!r}, weight_decay={weight_decay!r}, "
            f"kind={kind!r}, seed={seed!r}; the records hold (architecture, weight_decay, kind, seed) in {have}",
        )
    return values


def influence_mean(
    records: Sequence[Mapping[str, Any]],
    key: str,
    architecture: str,
    weight_decay: float,
    kind: str = "rare",
    seed: int | None = None,
) -> float:
    """Mean of ``key`` over the leave-one-out records of one (architecture, weight decay, kind),
    over every seed or only ``seed``.

    Raises
    ------
    ValueError
        If no record matches, naming what the records hold.
    """
    return float(np.mean(_influence_values(records, key, architecture, weight_decay, kind, seed)))


def influence_by_seed(
    records: Sequence[Mapping[str, Any]], key: str, architecture: str, weight_decay: float, kind: str = "rare"
) -> np.ndarray:
    """:func:`influence_mean` for each seed of the records, in seed order, as an array so that
    per-seed ratios and comparisons are elementwise: a claim that holds in every seed is checked
    with ``np.all`` or on ``min`` / ``max``."""
    seeds = sorted({r["seed"] for r in records})
    return np.array([influence_mean(records, key, architecture, weight_decay, kind, seed) for seed in seeds])
