"""``memcomp reproduce figure1`` writes the JSON and the PNG, reproducibly, and rejects bad options."""

from __future__ import annotations

import dataclasses

import pytest

from memcomp.cli import main
from memcomp.experiments.figure1 import Figure1Config
from memcomp.linear.sweep import METRICS
from memcomp.results import read_json

TINY = ["--n", "200", "--d", "1000", "--runs", "2", "--alphas", "1.5,2.5", "--noise-sigmas", "0,0.1"]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")


def test_writes_json_and_png_with_the_schema(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["reproduce", "figure1", *TINY, "--seed", "3", "--out", str(out)]) == 0
    assert "figure1: finished" in capsys.readouterr().out
    payload = read_json(out / "figure1.json")
    assert payload["experiment"] == "figure1"
    assert payload["scale"] == "fast"
    assert set(payload["config"]) == {f.name for f in dataclasses.fields(Figure1Config)}
    assert payload["config"]["n"] == 200 and payload["config"]["runs"] == 2 and payload["config"]["seed"] == 3
    assert [(r["alpha"], r["sigma"]) for r in payload["records"]] == [(1.5, 0.0), (1.5, 0.05), (2.5, 0.0), (2.5, 0.05)]
    assert [r["sigma"] for r in payload["noise_records"]] == [0.0, 0.1]
    for rec in payload["records"]:
        assert all(set(rec[m]) == {"mean", "std", "n_valid"} for m in METRICS)
    png = (out / "figure1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_same_seed_same_numbers(tmp_path):
    for name in ("a", "b"):
        assert main(["reproduce", "figure1", *TINY, "--no-plot", "--out", str(tmp_path / name)]) == 0
    a = read_json(tmp_path / "a" / "figure1.json")
    b = read_json(tmp_path / "b" / "figure1.json")
    assert not (tmp_path / "a" / "figure1.png").exists()
    a.pop("seconds"), b.pop("seconds")
    assert a == b


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--runs", "0"], "--runs"),
        (["--scale", "huge"], "scale"),
        (["--alphas", "2,2"], "--alphas"),
        (["--sigmas", "-1"], "--sigmas"),
        (["--seed", "-5"], "--seed"),
    ],
)
def test_bad_options_are_named(tmp_path, capsys, args, needle):
    assert main(["reproduce", "figure1", *TINY, *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "memcomp: error" in err
    assert not (tmp_path / "figure1.json").exists()


def test_out_must_be_a_directory(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["reproduce", "figure1", *TINY, "--out", str(f)]) == 2
    assert "--out" in capsys.readouterr().err


def test_plot_figure1_takes_a_sweep_result_and_rejects_other_things():
    from matplotlib.figure import Figure

    from memcomp.experiments.figure1 import run_figure1
    from memcomp.plots.linear import plot_figure1

    res = run_figure1(Figure1Config(n=200, d=1000, alphas=(1.5, 2.5), noise_sigmas=(0.0, 0.1), runs=2))
    fig = plot_figure1(res, theory=True)
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6
    assert len(visible[0].get_lines()) == 2  # one curve per sigma
    with pytest.raises(ValueError, match="result"):
        plot_figure1({"rows": []})
