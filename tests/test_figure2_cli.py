"""The figure2 experiment: tiny runs through the CLI and the Python API."""

import dataclasses

import pytest

from memcomp.cli import main
from memcomp.experiments.figure2 import Figure2Config, figure2_config, run_figure2
from memcomp.results import read_json

RECORD_FIELDS = {"architecture", "zipf_exponent", "nines_in_train", "seed", "ood_test_loss", "in_test_loss", "train_loss"}


def test_tiny_fast_cli_run_writes_json_and_png(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")
    monkeypatch.setenv("MEMCOMP_THREADS", "1")
    rc = main(["reproduce", "figure2", "--scale", "fast", "--seeds", "2", "--epochs", "1", "--train-size", "40",
               "--test-size", "20", "--nines", "2,5", "--device", "cpu", "--out", str(tmp_path)])
    assert rc == 0
    payload = read_json(tmp_path / "figure2.json")
    assert (tmp_path / "figure2.png").stat().st_size > 1000
    assert payload["config"]["scale"] == "fast" and payload["seconds"] > 0
    records = payload["records"]
    assert len(records) == 4 * 2 * 2
    for r in records:
        assert RECORD_FIELDS <= set(r)
        assert r["ood_test_loss"] >= 0 and r["in_test_loss"] >= 0 and r["train_loss"] >= 0
        assert r["train_loss_nines"] >= 0  # the rows that hold a 9 (there are 2 or 5 of them here)
    assert {r["nines_in_train"] for r in records} == {2, 5}
    assert {r["seed"] for r in records} == {0, 1}
    assert {r["architecture"] for r in records} == {"sum", "linear", "two_layer", "cross_channel"}
    assert all(r["train_digit_counts"][9] == r["nines_in_train"] for r in records)


def test_tiny_paper_scale_smoke_run_uses_resnet18(monkeypatch):
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")
    config = figure2_config("paper", architectures=("sum", "cross_channel"), n_train=6, n_test=4, nines=(1,),
                            seeds=1, epochs=1, batch_size=6, device="cpu")
    assert config.encoder == "resnet18" and config.feature_dim == 512
    payload = run_figure2(config)
    assert [r["architecture"] for r in payload["records"]] == ["sum", "cross_channel"]


def test_same_seed_same_numbers(monkeypatch):
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")
    config = figure2_config("fast", architectures=("sum",), n_train=30, n_test=10, nines=(3,), seeds=1,
                            epochs=1, device="cpu")
    a, b = run_figure2(config), run_figure2(config)
    strip = lambda p: [{k: v for k, v in r.items() if k != "train_seconds"} for r in p["records"]]
    assert strip(a) == strip(b)


def test_presets():
    fast, paper = figure2_config("fast"), figure2_config("paper")
    assert fast.encoder == "small_cnn" and paper.n_train == 32_000 and paper.zipf_exponent == 2.0
    assert len(fast.nines) >= 3 and fast.seeds >= 2
    assert set(fast.architectures) == {"sum", "linear", "two_layer", "cross_channel"}


@pytest.mark.parametrize(
    "overrides, name",
    [({"nines": ()}, "nines"), ({"seeds": 0}, "seeds"), ({"architectures": ("mlp",)}, "architectures"),
     ({"epochs": 0}, "epochs"), ({"n_train": 0}, "n_train"), ({"source": "web"}, "source"),
     ({"nines": (10_000,)}, "nines")],
)
def test_bad_config_names_the_parameter(overrides, name):
    with pytest.raises(ValueError, match=name):
        figure2_config("fast", **overrides)


def test_bad_cli_arguments_exit_with_a_message(tmp_path, capsys):
    rc = main(["reproduce", "figure2", "--epochs", "0", "--out", str(tmp_path)])
    assert rc == 2
    assert "epochs" in capsys.readouterr().err
    with pytest.raises(ValueError, match="config"):
        run_figure2(dataclasses.asdict(figure2_config("fast")))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--nines", "1,x"], "nines"),
        (["--out", "FILE"], "out"),
        (["--architectures", "sum,mlp"], "architectures"),
        (["--encoder", "vgg"], "encoder"),
    ],
)
def test_bad_nines_or_out_file_is_named(tmp_path, capsys, args, needle):
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    args = [str(target) if a == "FILE" else a for a in args]
    rc = main(["reproduce", "figure2", *args] + ([] if "--out" in args else ["--out", str(tmp_path / "o")]))
    assert rc == 2
    assert needle in capsys.readouterr().err
    assert target.read_text() == "not a folder" and not (tmp_path / "o").exists()
