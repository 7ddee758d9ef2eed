"""Leave-one-out self-influence by retraining (memcomp.nets.influence)."""

import numpy as np
import pytest

from memcomp.data import build_rare_symbol_task
from memcomp.nets.influence import (
    influence_by_seed,
    influence_mean,
    leave_one_out,
    pick_rows,
    predict,
    summarize_influence,
)
from memcomp.nets.models import build_model
from memcomp.nets.train import TrainConfig, train_model

FIELDS = {
    "architecture", "weight_decay", "seed", "row", "kind", "digits", "target", "pred_full", "pred_loo",
    "loss_full", "loss_loo", "self_influence", "pred_change", "n_pairs", "pair_loss_full", "pair_loss_loo",
    "pair_influence", "pair_pred_change", "test_in_change", "pred_seed_spread", "loss_seed_spread",
}


@pytest.fixture(scope="module")
def task():
    return build_rare_symbol_task(n_train=40, n_test_pairs=45, n_test_in=20, seed=0)


pytestmark = pytest.mark.usefixtures("quiet", "torch_threads")


CONFIG = TrainConfig(epochs=60, batch_size=8, lr=1e-2, device="cpu")
MODEL = dict(architecture="sum", feature_dim=64, width=8)


def test_leaving_a_memorized_rare_row_out_moves_its_own_prediction_most(task):
    row = int(task.rare_rows[0])
    records = leave_one_out(task, [row], config=CONFIG, seeds=(0,), **MODEL)
    (rec,) = records
    assert FIELDS == set(rec)
    assert rec["kind"] == "rare" and rec["row"] == row and rec["seed"] == 0
    assert rec["loss_full"] < 1.0  # memorized
    assert rec["self_influence"] > 1.0 and rec["self_influence"] == pytest.approx(rec["loss_loo"] - rec["loss_full"])
    # its own prediction moves far more than the predictions on other (ordinary test) rows
    assert rec["pred_change"] > 3 * rec["test_in_change"]
    symbol = task.train.image_ids[row][task.train.rare[row]][0]
    expected = int((task.test.rare & (task.test.image_ids == symbol)).any(axis=1).sum())
    assert 6 <= expected and rec["n_pairs"] == expected and rec["pair_influence"] is not None
    assert rec["pred_seed_spread"] is None  # no spread seeds asked for


def test_seed_spread_is_the_spread_of_full_models_from_other_seeds(task):
    row = int(task.rare_rows[0])
    (rec,) = leave_one_out(task, [row], config=CONFIG, seeds=(0,), spread_seeds=2, **MODEL)
    preds = [rec["pred_full"]]
    for k in range(2):
        model = build_model(seed=1000 + k, **MODEL)
        train_model(model, task.train, TrainConfig(**{**CONFIG.__dict__, "seed": 1000 + k}))
        preds.append(float(predict(model, task.train.subset([row]))[0]))
    assert rec["pred_seed_spread"] == pytest.approx(float(np.std(preds, ddof=1)), rel=1e-6)
    losses = [(p - rec["target"]) ** 2 for p in preds]
    assert rec["loss_seed_spread"] == pytest.approx(float(np.std(losses, ddof=1)), rel=1e-6)
    # the row is memorized by every seed: the seeds agree on it far better than a model without it
    assert rec["pred_change"] > 3 * rec["pred_seed_spread"]


def test_reference_model_is_reused_and_ordinary_rows_have_no_pairs(task):
    rare, ordinary = pick_rows(task, 0, 1, seed=1)
    assert len(rare) == 0 and int(ordinary[0]) not in set(task.rare_rows.tolist())
    model = build_model(seed=0, **MODEL)
    train_model(model, task.train, CONFIG)
    ref_pred = predict(model, task.train.subset(ordinary))
    (rec,) = leave_one_out(task, ordinary, config=CONFIG, seeds=(0,), reference={0: model}, **MODEL)
    assert rec["kind"] == "ordinary" and rec["pair_influence"] is None and rec["n_pairs"] is None
    assert rec["pred_full"] == pytest.approx(float(ref_pred[0]))
    summary = summarize_influence([rec])
    assert summary[("sum", 0.0, "ordinary")]["count"] == 1
    assert summarize_influence([rec], "pair_influence") == {}


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"rows": [1000]}, "rows"),
        ({"rows": [1, 1]}, "rows"),
        ({"rows": []}, "rows"),
        ({"rows": [0.5]}, "rows"),
        ({"architecture": "mlp"}, "architecture"),
        ({"seeds": (-1,)}, "seeds"),
        ({"seeds": ()}, "seeds"),
        ({"config": {"epochs": 1}}, "config"),  # a TypeError (also a ValueError)
        ({"reference": {5: None}}, "reference"),
    ],
)
def test_bad_inputs_name_the_parameter(task, kwargs, name):
    args = {"rows": [0], "config": CONFIG, "seeds": (0,), **MODEL}
    args.update(kwargs)
    rows = args.pop("rows")
    with pytest.raises(ValueError, match=name):
        leave_one_out(task, rows, **args)


def test_task_must_be_a_rare_symbol_task():
    with pytest.raises(TypeError, match="task"):
        leave_one_out(object(), [0], config=CONFIG)
    with pytest.raises(ValueError, match="n_rare"):
        pick_rows(build_rare_symbol_task(n_train=20, n_test_pairs=2, seed=0), 11, 0, seed=0)
    with pytest.raises(ValueError, match="records"):
        summarize_influence([])


def _fake_influence_records():
    return [
        {"architecture": a, "weight_decay": wd, "kind": kind, "seed": seed, "self_influence": value}
        for a in ("sum", "cross_channel")
        for wd in (0.0, 0.5)
        for kind in ("rare", "ordinary")
        for seed, values in ((0, (1.0, 3.0)), (1, (5.0, 7.0)))
        for value in values
    ]


def test_influence_mean_and_by_seed_group_the_records():
    records = _fake_influence_records()
    records.append({**records[0], "self_influence": None})  # skipped
    assert influence_mean(records, "self_influence", "sum", 0.5) == pytest.approx(4.0)
    assert influence_mean(records, "self_influence", "sum", 0.5, seed=1) == pytest.approx(6.0)
    assert influence_by_seed(records, "self_influence", "cross_channel", 0.0, "ordinary") == pytest.approx([2.0, 6.0])


@pytest.mark.parametrize(
    "args, name",
    [
        (("pair_loss", "sum", 0.0), "key"),
        (("self_influence", "linear", 0.0), "architecture"),
        (("self_influence", "sum", 0.1), "weight_decay"),
        (("self_influence", "sum", 0.0, "common"), "kind"),
    ],
)
def test_influence_mean_names_what_is_missing(args, name):
    with pytest.raises(ValueError, match=name):
        influence_mean(_fake_influence_records(), *args)
