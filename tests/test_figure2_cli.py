"""The figure2 experiment: tiny runs through the CLI and the Python API; the CLI never loses work."""

import dataclasses
import socket

import pytest

from memcomp.cli import main
from memcomp.experiments.figure2 import Figure2Config, figure2_config, run_figure2
from memcomp.results import read_json

pytestmark = pytest.mark.usefixtures("quiet", "torch_threads")

RECORD_FIELDS = {
    "architecture", "zipf_exponent", "nines_in_train", "seed", "epochs", "weight_decay_mode", "ood_test_loss",
    "seen_combo_test_loss", "in_test_loss", "in_test_loss_seen_combo", "in_test_loss_unseen_combo", "train_loss",
}
ENVIRONMENT_FIELDS = {"memcomp", "numpy", "torch", "device", "threads", "cpu_capability", "mixed_precision"}
TINY = ["--scale", "fast", "--epochs", "1", "--train-size", "40", "--test-size", "20", "--nines", "2", "--device", "cpu"]


def test_tiny_fast_cli_run_writes_json_and_png(tmp_path, torch_threads):
    rc = main(["reproduce", "figure2", *TINY, "--seeds", "2", "--nines", "2,5", "--out", str(tmp_path)])
    assert rc == 0
    payload = read_json(tmp_path / "figure2.json")
    assert (tmp_path / "figure2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert payload["config"]["scale"] == "fast" and payload["config"]["n_train"] == 40
    env = payload["environment"]
    assert ENVIRONMENT_FIELDS <= set(env)
    assert env["device"] == "cpu" and env["threads"] == torch_threads and env["mixed_precision"] is False
    records = payload["records"]
    assert len(records) == 4 * 2 * 2
    for r in records:
        assert RECORD_FIELDS <= set(r)
        assert r["train_loss_nines"] is not None  # the rows that hold a 9 (there are 2 or 5 of them here)
    assert {r["nines_in_train"] for r in records} == {2, 5}
    assert {r["seed"] for r in records} == {0, 1}
    assert {r["architecture"] for r in records} == {"sum", "linear", "two_layer", "cross_channel"}
    assert all(r["train_digit_counts"][9] == r["nines_in_train"] for r in records)
    # equal memorization: Cross-channel gets the preset's multiple of the others' epochs
    assert {r["epochs"] for r in records if r["architecture"] == "cross_channel"} == {3}
    assert {r["epochs"] for r in records if r["architecture"] != "cross_channel"} == {1}
    assert payload["grid"] == {"cells": 16, "computed": 16, "reused": 0, "runner": "in-process"}
    # the in-distribution test loss is the row-weighted mean of its seen and unseen parts
    for r in records:
        share = r["in_test_seen_combo_share"]
        parts = [(share, r["in_test_loss_seen_combo"]), (1 - share, r["in_test_loss_unseen_combo"])]
        assert sum(w * v for w, v in parts if v is not None) == pytest.approx(r["in_test_loss"], rel=1e-9)


def test_jobs_2_gives_the_records_of_an_in_process_run(tmp_path, monkeypatch):
    """The issue's check: a tiny grid on a local Dask cluster of 2 workers (one thread each)
    gives the records of the same grid run here on one thread; a rerun reuses every cell."""
    import torch

    monkeypatch.setenv("MEMCOMP_THREADS", "1")
    torch.set_num_threads(1)
    tiny = [*TINY, "--seeds", "2", "--architectures", "sum,cross_channel"]
    assert main(["reproduce", "figure2", *tiny, "--out", str(tmp_path / "here")]) == 0
    assert main(["reproduce", "figure2", *tiny, "--jobs", "2", "--out", str(tmp_path / "dask")]) == 0
    here, dask = read_json(tmp_path / "here" / "figure2.json"), read_json(tmp_path / "dask" / "figure2.json")
    strip = lambda p: [{k: v for k, v in r.items() if k != "train_seconds"} for r in p["records"]]
    assert strip(here) == strip(dask)
    assert dask["grid"]["runner"] == "local cluster, 2 workers" and dask["grid"]["computed"] == 4
    assert main(["reproduce", "figure2", *tiny, "--out", str(tmp_path / "dask")]) == 0
    again = read_json(tmp_path / "dask" / "figure2.json")
    assert again["grid"]["computed"] == 0 and again["grid"]["reused"] == 4 and strip(again) == strip(here)


def test_tiny_paper_scale_smoke_run_uses_resnet18():
    config = figure2_config("paper", architectures=("sum", "cross_channel"), n_train=6, n_test=4, nines=(1,),
                            seeds=1, epochs=1, batch_size=6, device="cpu")
    assert config.encoder == "resnet18" and config.feature_dim == 512
    payload = run_figure2(config)
    assert [r["architecture"] for r in payload["records"]] == ["sum", "cross_channel"]


def test_same_seed_same_numbers():
    config = figure2_config("fast", architectures=("sum",), n_train=30, n_test=10, nines=(3,), seeds=1,
                            epochs=1, device="cpu")
    a, b = run_figure2(config), run_figure2(config)
    strip = lambda p: [{k: v for k, v in r.items() if k != "train_seconds"} for r in p["records"]]
    assert strip(a) == strip(b)


def test_paper_preset_differs_from_fast_only_in_the_network_and_sizes():
    fast, paper = figure2_config("fast"), figure2_config("paper")
    assert fast.encoder == "small_cnn" and paper.encoder == "resnet18" and paper.n_train == 32_000
    differ = {f.name for f in dataclasses.fields(Figure2Config) if getattr(fast, f.name) != getattr(paper, f.name)}
    assert differ == {"scale", "encoder", "feature_dim", "width", "n_train", "n_test", "nines", "batch_size", "lr"}
    assert len(fast.nines) >= 3 and fast.seeds >= 2
    assert set(fast.architectures) == {"sum", "linear", "two_layer", "cross_channel"}


@pytest.mark.parametrize(
    "overrides, name",
    [({"nines": ()}, "nines"), ({"seeds": 0}, "seeds"), ({"architectures": ("mlp",)}, "architectures"),
     ({"epochs": 0}, "epochs"), ({"n_train": 0}, "n_train"), ({"source": "web"}, "source"),
     ({"nines": (10_000,)}, "nines"), ({"cudnn_benchmark": "yes"}, "cudnn_benchmark")],
)
def test_bad_config_names_the_parameter(overrides, name):
    with pytest.raises(ValueError, match=name):
        figure2_config("fast", **overrides)


def test_run_figure2_rejects_other_configs():
    with pytest.raises(TypeError, match="config"):
        run_figure2(dataclasses.asdict(figure2_config("fast")))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--nines", "1,x"], "--nines must be comma-separated numbers"),
        (["--out", "FILE"], "--out must be a folder"),
        (["--architectures", "sum,mlp"], "--architectures must be one of"),
        (["--encoder", "vgg"], "--encoder must be one of"),
        (["--epochs", "0"], "epochs must be an integer"),
        (["--seeds", "0"], "--seeds must be an integer in [1, 1000]"),
        (["--train-size", "0"], "--train-size must be an integer"),
        (["--scale", "huge"], "argument --scale: invalid choice"),
    ],
)
def test_bad_options_are_named_by_their_flag(tmp_path, capsys, args, needle):
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    args = [str(target) if a == "FILE" else a for a in args]
    rc = main(["reproduce", "figure2", *args] + ([] if "--out" in args else ["--out", str(tmp_path / "o")]))
    assert rc == 2
    err = capsys.readouterr().err
    assert f"memcomp: error: " in err and needle in err and "Traceback" not in err
    assert target.read_text() == "not a folder" and not (tmp_path / "o").exists()


def _no_training(monkeypatch):
    """Make any training fail loudly: the command must stop before it."""
    import memcomp.nets.train

    def refuse(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(memcomp.nets.train, "train_model", refuse)


def test_unwritable_out_fails_before_training(capsys, monkeypatch):
    _no_training(monkeypatch)
    rc = main(["reproduce", "figure2", *TINY, "--out", "/proc/memcomp-results"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("memcomp: error: --out '/proc/memcomp-results' is not a writable folder")
    assert len(err.splitlines()) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the socket is: connections are refused


def test_failed_download_is_one_line_naming_source_bundled(tmp_path, capsys, monkeypatch):
    import memcomp.data.mnist

    _no_training(monkeypatch)
    monkeypatch.setenv("MEMCOMP_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(memcomp.data.mnist, "MNIST_MIRRORS", (f"http://127.0.0.1:{_closed_port()}/mnist/",))
    rc = main(["reproduce", "figure2", *TINY, "--source", "full", "--out", str(tmp_path / "out")])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("memcomp: error: ")
    assert "--source bundled" in err and "Traceback" not in err and "load_mnist(" not in err
    assert not (tmp_path / "out" / "figure2.json").exists()


@pytest.mark.parametrize("value", ["abc", "0"])
def test_bad_memcomp_threads_is_a_clear_error(tmp_path, capsys, monkeypatch, value):
    monkeypatch.setenv("MEMCOMP_THREADS", value)
    assert main(["reproduce", "figure2", *TINY, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"memcomp: error: MEMCOMP_THREADS must be an integer in [1, 1024]" in err and repr(value)[1:-1] in err


def _runs(values):
    """Synthetic Figure 2 records: values[(arch, seed, nines)] = (ood, seen)."""
    return [{"architecture": a, "seed": s, "nines_in_train": m, "ood_test_loss": o, "seen_combo_test_loss": q}
            for (a, s, m), (o, q) in values.items()]


def test_per_seed_ratio_orders_seeds_and_settings():
    from memcomp.plots.neural import per_seed_ratio

    runs = _runs({("sum", 1, 60): (3.0, 1.0), ("sum", 0, 400): (1.0, 4.0), ("sum", 0, 60): (2.0, 1.0),
                  ("sum", 1, 400): (6.0, 2.0)})
    ratio = per_seed_ratio(runs, "ood_test_loss", "seen_combo_test_loss")
    assert list(ratio) == ["sum"]
    assert ratio["sum"].tolist() == [[2.0, 0.25], [3.0, 3.0]]


@pytest.mark.parametrize(
    "runs, args, needle",
    [
        ([], ("ood_test_loss", "seen_combo_test_loss"), "records must hold at least one run"),
        (_runs({("sum", 0, 60): (1.0, 1.0)}), ("ood", "seen_combo_test_loss"), "numerator must be one of"),
        (_runs({("sum", 0, 60): (1.0, 1.0)}), ("ood_test_loss", "seen"), "denominator must be one of"),
        (_runs({("sum", 0, 60): (1.0, 1.0), ("sum", 1, 400): (1.0, 1.0)}), ("ood_test_loss", "seen_combo_test_loss"),
         "records must cover every"),
        (_runs({("sum", 0, 60): (1.0, 1.0)}) * 2, ("ood_test_loss", "seen_combo_test_loss"), "one run per"),
    ],
)
def test_per_seed_ratio_names_what_is_wrong(runs, args, needle):
    from memcomp.plots.neural import per_seed_ratio

    with pytest.raises(ValueError, match=needle):
        per_seed_ratio(runs, *args)
