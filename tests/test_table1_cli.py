"""The table1 experiment: a tiny run through the CLI and the Python API, presets, bad inputs."""

import dataclasses

import pytest

from memcomp.cli import main
from memcomp.experiments.table1 import Table1Config, Table1Result, run_table1, table1_config
from memcomp.experiments.table1_report import (
    PAPER_TABLE1,
    loss_by_frequency,
    loss_by_largest_digit,
    table1_markdown,
)
from memcomp.nets.evaluation import row_errors
from memcomp.plots.neural import plot_loss_by_frequency, plot_table1
from memcomp.results import read_json

pytestmark = pytest.mark.usefixtures("quiet", "torch_threads")

RECORD_FIELDS = {
    "architecture", "weight_decay", "seed", "test_loss", "train_loss", "train_loss_rare",
    "train_loss_ordinary", "in_test_loss", "train_seconds", "test_loss_moved",
    "train_loss_by_largest_digit", "train_digit_draws", "weight_decay_mode",
}
TINY = ["--scale", "fast", "--epochs", "1", "--train-size", "30", "--test-size", "10", "--device", "cpu"]


def test_tiny_cli_run_writes_json_png_and_table(tmp_path, capsys, torch_threads):
    rc = main(["reproduce", "table1", *TINY, "--curve", "0.1", "--seeds", "2", "--test-in-size", "20", "--out", str(tmp_path)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| Sum |" in printed and "table1: finished" in printed
    payload = read_json(tmp_path / "table1.json")
    assert (tmp_path / "table1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert payload["experiment"] == "table1" and payload["environment"]["threads"] == torch_threads
    assert set(payload["config"]) == {f.name for f in dataclasses.fields(Table1Config)}
    assert payload["config"]["n_train"] == 30 and payload["config"]["epochs"] == 1
    records = payload["records"]
    # 4 architectures x {0, 0.5} + 1 curve architecture (Sum) x {0.1}, for 2 seeds
    assert len(records) == (4 * 2 + 1) * 2
    for r in records:
        assert RECORD_FIELDS <= set(r)
    assert {r["seed"] for r in records} == {0, 1}
    assert {r["weight_decay"] for r in records if r["architecture"] == "cross_channel"} == {0.0, 0.5}
    assert {r["weight_decay"] for r in records if r["architecture"] == "sum"} == {0.0, 0.1, 0.5}
    for r in records:
        assert len(r["train_loss_by_largest_digit"]) == 10 and sum(r["train_digit_draws"]) == 3 * 30 - 10


def test_cli_encoder_architectures_and_digit_images_reach_the_config(tmp_path):
    args = ["--curve", "", "--seeds", "1", "--encoder", "small_cnn", "--digit-images", "all", "--architectures", "sum, cross_channel"]
    assert main(["reproduce", "table1", *TINY, *args, "--out", str(tmp_path)]) == 0
    payload = read_json(tmp_path / "table1.json")
    config = payload["config"]
    assert config["encoder"] == "small_cnn" and config["digit_images_per_class"] is None
    assert [r["architecture"] for r in payload["records"]] == ["sum", "sum", "cross_channel", "cross_channel"]
    assert main(["reproduce", "table1", *TINY, "--curve", "", "--seeds", "1", "--digit-images", "7", "--out", str(tmp_path / "b")]) == 0
    assert read_json(tmp_path / "b" / "table1.json")["config"]["digit_images_per_class"] == 7


def test_same_seed_same_numbers_and_summaries():
    config = table1_config("fast", architectures=("sum",), curve_weight_decays=(), n_train=30, n_test_pairs=10,
                           n_test_in=10, epochs=1, device="cpu")
    a, b = run_table1(config), run_table1(config)
    strip = lambda p: [{k: v for k, v in r.items() if k != "train_seconds"} for r in p.records]
    assert strip(a) == strip(b)
    text = table1_markdown(a)
    assert text.count("\n") == 2 and f"{PAPER_TABLE1['sum'][0.0][0]:.4f}" in text
    fig = plot_table1(a)
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"


def test_keep_models_returns_models_and_tasks():
    config = table1_config("fast", architectures=("sum",), weight_decays=(0.0,), curve_weight_decays=(),
                           n_train=20, n_test_pairs=5, n_test_in=0, epochs=1, seeds=1, device="cpu")
    result = run_table1(config, keep_models=True)
    assert isinstance(result, Table1Result)
    assert set(result.models) == {("sum", 0.0, 0)} and set(result.tasks) == {0}
    assert result.records[0]["in_test_loss"] is None
    payload = result.payload()
    assert "models" not in payload and "tasks" not in payload and payload["records"] is result.records
    assert run_table1(config).models == {}


def test_presets():
    fast, paper = table1_config("fast"), table1_config("paper")
    assert fast.encoder == "plain_cnn" and fast.weight_decays == (0.0, 0.5) and fast.digit_images_per_class == 190
    assert fast.weight_decay_mode == paper.weight_decay_mode == "decoupled"
    assert paper.encoder == "resnet18" and paper.n_train == 32_000 and paper.zipf_exponent == 2.0
    differ = {f.name for f in dataclasses.fields(Table1Config) if getattr(fast, f.name) != getattr(paper, f.name)}
    assert differ == {"scale", "curve_architectures", "encoder", "feature_dim", "width", "n_train", "n_test_in",
                      "digit_images_per_class", "seeds", "epochs", "batch_size", "lr"}
    assert set(fast.architectures) == set(paper.architectures) == {"sum", "linear", "two_layer", "cross_channel"}
    assert ("sum", 0.1) in fast.runs() and ("cross_channel", 0.1) not in fast.runs()


def test_tiny_paper_scale_smoke_run_uses_resnet18():
    config = table1_config("paper", architectures=("sum",), weight_decays=(0.5,), curve_weight_decays=(),
                           n_train=12, n_test_pairs=3, n_test_in=0, epochs=1, batch_size=12, device="cpu")
    assert config.encoder == "resnet18" and config.feature_dim == 512
    assert [r["architecture"] for r in run_table1(config).records] == ["sum"]


@pytest.mark.parametrize(
    "overrides, name",
    [
        ({"architectures": ("sum", "mlp")}, "architectures"),
        ({"weight_decays": (0.0, -1.0)}, "weight_decays"),
        ({"weight_decays": ()}, "weight_decays"),
        ({"curve_weight_decays": (0.1, 0.1)}, "curve_weight_decays"),
        ({"n_train": 5}, "n_train"),
        ({"epochs": 0}, "epochs"),
        ({"digit_images_per_class": 0}, "digit_images_per_class"),
        ({"seeds": 0}, "seeds"),
        ({"symbols": "emoji"}, "symbols"),
        ({"lr": -1.0}, "lr"),
    ],
)
def test_bad_config_names_the_parameter(overrides, name):
    with pytest.raises(ValueError, match=name):
        table1_config("fast", **overrides)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--epochs", "0"], "--epochs must be an integer"),
        (["--train-size", "3"], "--train-size must be an integer in [11, "),
        (["--seed", "-1"], "--seed must be an integer"),
        (["--curve", "0.1,x"], "--curve must be comma-separated numbers"),
        (["--curve", "0.1,0.1"], "--curve must not repeat"),
        (["--seeds", "0"], "--seeds must be an integer"),
        (["--influence", "-1"], "--influence must be an integer"),
        (["--digit-images", "some"], "--digit-images must be a positive integer or 'all'"),
        (["--digit-images", "0"], "--digit-images must be an integer"),
        (["--encoder", "vgg"], "--encoder must be one of"),
        (["--architectures", "sum,mlp"], "--architectures must be one of"),
        (["--architectures", ","], "--architectures must name at least one"),
        (["--test-in-size", "-1"], "--test-in-size must be an integer"),
        (["--weight-decay-mode", "adamw"], "--weight-decay-mode must be one of"),
        (["--influence", "1", "--influence-architectures", "mlp"], "--influence-architectures must be among the trained"),
        (["--influence", "1", "--influence-spread-seeds", "-1"], "--influence-spread-seeds must be an integer"),
        (["--influence", "1", "--jobs", "2"], "--influence runs in this process"),
    ],
)
def test_bad_cli_options_are_named(tmp_path, capsys, args, needle):
    assert main(["reproduce", "table1", *TINY, *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memcomp: error: ") and needle in err and len(err.splitlines()) == 1
    assert not (tmp_path / "table1.json").exists()


def test_run_table1_rejects_other_configs():
    with pytest.raises(TypeError, match="config"):
        run_table1({"scale": "fast"})


def test_markdown_columns_are_the_configs_weight_decays():
    base = {"seed": 0, "train_loss": 0.5}
    records = [{**base, "architecture": a, "weight_decay": w, "test_loss": 1.0 + w}
               for a in ("sum", "cross_channel") for w in (0.0, 1.0)]
    records.append({**base, "architecture": "sum", "weight_decay": 0.1, "test_loss": 3.0})  # a curve point
    config = {"weight_decays": [0.0, 1.0]}
    text = table1_markdown({"config": config, "records": records})
    lines = text.splitlines()
    assert lines[0] == "| model | WD = 0: test / train | WD = 1: test / train | test ratio |"  # no paper column
    assert len(lines) == 4 and lines[3].startswith("| Cross-channel | 1.000 / 0.5000 | 2.000 / 0.5000 | 2.0x |")
    assert "paper" not in text and "WD = 0.1" not in text
    paper = table1_markdown({"config": {"weight_decays": [0.0, 0.5]}, "records": [
        {**r, "weight_decay": 0.5 if r["weight_decay"] == 1.0 else r["weight_decay"]} for r in records]})
    assert "paper WD = 0.5" in paper.splitlines()[0] and f"{PAPER_TABLE1['sum'][0.5][0]:.4f}" in paper
    three = table1_markdown({"config": {"weight_decays": [0.0, 0.1, 1.0]}, "records": records})
    assert "| Cross-channel | 1.000 / 0.5000 | - | 2.000 / 0.5000 |" in three and "ratio" not in three


def test_cli_curve_with_a_table_weight_decay_keeps_every_row(tmp_path, capsys):
    args = ["--curve", "1.0", "--seeds", "1", "--architectures", "sum,cross_channel", "--epochs", "1"]
    assert main(["reproduce", "table1", *TINY, *args, "--out", str(tmp_path)]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert table[0].startswith("| model | WD = 0: test / train | WD = 0.5: test / train | test ratio | paper WD = 0 |")
    assert [line.split("|")[1].strip() for line in table[2:]] == ["Sum", "Cross-channel"]


def test_cli_influence_measures_every_one_shot_row(tmp_path, capsys):
    rc = main(["reproduce", "table1", *TINY, "--curve", "", "--seeds", "1", "--influence", "2", "--out", str(tmp_path)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "self-influence" in printed and "| one-shot |" in printed
    payload = read_json(tmp_path / "table1.json")
    assert "models" not in payload and "tasks" not in payload and "environment" in payload
    influence = payload["influence"]
    assert len(influence) == 2 * (10 + 2)  # weight decay 0 and 0.5, ten one-shot rows and two ordinary rows
    for wd in (0.0, 0.5):
        rows = [r for r in influence if r["weight_decay"] == wd]
        assert sorted(r["kind"] for r in rows) == ["ordinary"] * 2 + ["rare"] * 10
        assert all(r["architecture"] == "sum" and r["seed"] == 0 for r in rows)
        assert all(r["self_influence"] == pytest.approx(r["loss_loo"] - r["loss_full"]) for r in rows)
    # every one-shot row of the task is measured
    task = table1_config("fast", n_train=30, n_test_pairs=10).build_task(0)
    assert {r["row"] for r in influence if r["kind"] == "rare"} == set(task.rare_rows.tolist())


class _Constant(__import__("torch").nn.Module):
    """Predicts ``value`` for every row."""

    def __init__(self, value: float) -> None:
        import torch

        super().__init__()
        self.value = torch.nn.Parameter(torch.tensor(float(value)))

    def forward(self, x):
        return self.value.expand(x.shape[0])


def test_loss_by_largest_digit_groups_rows_by_their_rarest_digit():
    import numpy as np

    task = table1_config("fast", n_train=200, n_test_pairs=5).build_task(0)
    train = task.train
    err = row_errors(_Constant(3.0), train)
    assert err == pytest.approx((train.target - 3.0) ** 2)
    losses = loss_by_largest_digit(train, err)
    plain = ~train.rare.any(axis=1)
    for d in range(10):
        rows = plain & (train.digits.max(axis=1) == d)
        if rows.any():
            assert losses[d] == pytest.approx(float(err[rows].mean()))
        else:
            assert losses[d] is None
    assert losses[0] == pytest.approx(9.0)  # a row of three 0s has target 0
    with pytest.raises(ValueError, match="errors"):
        loss_by_largest_digit(train, err[:-1])
    draws = train.digit_draws()
    assert draws.sum() == 3 * 200 - 10 and draws[0] == np.sum(train.digits[~train.rare] == 0)


def test_loss_by_frequency_averages_seeds_and_names_what_is_missing():
    import numpy as np

    base = {"architecture": "sum", "weight_decay": 0.5, "train_loss_rare": 1.0}
    records = [
        {**base, "seed": 0, "train_digit_draws": [10] * 10, "train_loss_by_largest_digit": [1.0] * 9 + [None]},
        {**base, "seed": 1, "train_digit_draws": [20] * 10, "train_loss_by_largest_digit": [3.0] * 9 + [None]},
    ]
    draws, loss = loss_by_frequency(records, "sum", 0.5)
    assert draws.tolist() == [15.0] * 10 and loss[:9].tolist() == [2.0] * 9 and np.isnan(loss[9])
    with pytest.raises(ValueError, match="architecture 'linear'"):
        loss_by_frequency(records, "linear", 0.5)
    with pytest.raises(ValueError, match="train_loss_by_largest_digit"):
        loss_by_frequency([{**base, "seed": 0}], "sum", 0.5)
    fig = plot_loss_by_frequency(records + [{**r, "weight_decay": 0.0} for r in records], architectures=("sum",))
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].lines) == 4
    from matplotlib.figure import Figure

    host = Figure()
    ax = host.add_subplot()
    assert plot_loss_by_frequency(records, architectures=("sum",), axes=[ax]) is host and len(ax.lines) == 4


def test_weight_decay_mode_and_influence_architectures_reach_the_records(tmp_path, capsys):
    rc = main([
        "reproduce", "table1", *TINY, "--curve", "", "--seeds", "1", "--weight-decay-mode", "decoupled",
        "--architectures", "sum,cross_channel", "--influence", "0", "--influence-architectures", "sum,cross_channel",
        "--influence-spread-seeds", "1", "--out", str(tmp_path),
    ])
    assert rc == 0
    payload = read_json(tmp_path / "table1.json")
    assert payload["config"]["weight_decay_mode"] == "decoupled"
    assert {r["weight_decay_mode"] for r in payload["records"]} == {"decoupled"}
    influence = payload["influence"]
    assert len(influence) == 2 * 2 * 10  # two architectures, weight decay 0 and 0.5, the ten one-shot rows
    assert {r["architecture"] for r in influence} == {"sum", "cross_channel"}
    assert all(r["pred_seed_spread"] is not None for r in influence)
    capsys.readouterr()
