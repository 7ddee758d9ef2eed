"""Table 1's leave-one-out runner: self-influence of the one-shot rows, by retraining.

The measurement itself is :func:`memcomp.nets.influence.leave_one_out`; this module runs it
for every seed of a Table 1 configuration, reusing that run's models as the full-data
references.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from memcomp.checks import ParameterError, ParameterTypeError, check_choice, check_int
from memcomp.config import resolve_device


def run_table1_influence(
    result: Any, *, n_ordinary: int, architectures: Sequence[str] = ("sum",), spread_seeds: int = 0
) -> list[dict[str, Any]]:
    """Leave-one-out self-influence of every one-shot row and of ``n_ordinary`` ordinary rows
    (drawn with the seed), for each seed of the run on that seed's task, at the smallest and
    the largest of ``config.weight_decays``.

    Parameters
    ----------
    result : Table1Result
        From ``run_table1(config, keep_models=True)``; its models serve as the full-data
        references, so this costs ``seeds * 2 * (10 * images_per_symbol + n_ordinary)`` trainings.
    n_ordinary : int
        Ordinary rows per seed (0 to the number of ordinary rows).
    architecture : str
        One of the run's ``config.architectures``.

    Returns
    -------
    list of dict
        The records of :func:`memcomp.nets.influence.leave_one_out`.

    Raises
    ------
    TypeError
        If ``result`` is not a :class:`~memcomp.experiments.table1.Table1Result`.
    ValueError
        If it holds no models, or ``architecture`` / ``n_ordinary`` is out of range.
    """
    from memcomp.experiments.table1 import Table1Result
    from memcomp.nets.influence import leave_one_out, pick_rows

    if not isinstance(result, Table1Result):
        raise ParameterTypeError("result", f"result must be a Table1Result; got {type(result).__name__}")
    if not result.models or not result.tasks:
        raise ParameterError("result", "result must come from run_table1(config, keep_models=True); it holds no models")
    config = result.config
    if isinstance(architectures, str) or not architectures:
        raise ParameterError("architectures", f"architectures must be a non-empty sequence of names; got {architectures!r}")
    for architecture in architectures:
        check_choice("architectures", architecture, config.architectures)
    n_ordinary = check_int("n_ordinary", n_ordinary, low=0, high=config.n_train - 10 * config.images_per_symbol)
    device = resolve_device(config.device)
    records: list[dict[str, Any]] = []
    for s in range(config.seeds):
        seed = config.seed + s
        task = result.tasks[seed]
        _, ordinary = pick_rows(task, 0, n_ordinary, seed=seed)
        rows = np.concatenate([task.rare_rows, ordinary])
        for architecture, wd in [(a, w) for a in architectures for w in sorted({min(config.weight_decays), max(config.weight_decays)})]:
            records += leave_one_out(
                task,
                rows,
                config=replace(config.train_config(seed, wd), device=device),
                architecture=architecture,
                encoder=config.encoder,
                feature_dim=config.feature_dim,
                width=config.width,
                seeds=(seed,),
                reference={seed: result.models[(architecture, float(wd), seed)]},
                spread_seeds=spread_seeds,
            )
    return records
