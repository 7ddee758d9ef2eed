"""Shared infrastructure: input checks, scales, devices, seeds, results files and the CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from memcomp import checks, cli, config
from memcomp.experiments import EXPERIMENTS, load
from memcomp.results import atomic_write_bytes, read_json, write_json


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: checks.check_int("n", 2.5, low=1), "n must be an integer in [1, inf)"),
        (lambda: checks.check_int("n", True, low=1), "n must be an integer"),
        (lambda: checks.check_int("d", 0, low=1), "got 0"),
        (lambda: checks.check_float("alpha", float("nan"), low=0), "alpha must be a finite number"),
        (lambda: checks.check_float("sigma", -0.1, low=0), "sigma must be a finite number in [0, inf)"),
        (lambda: checks.check_float("lam", 0.0, low=0, low_open=True), "lam must be a finite number in (0, inf)"),
        (lambda: checks.check_choice("scale", "huge", ("fast", "paper")), "scale must be one of 'fast', 'paper'"),
        (lambda: checks.check_array("y", [[1.0]], ndim=1), "y must be a 1-dimensional array"),
        (lambda: checks.check_array("y", [1.0, np.inf], ndim=1), "y must contain only finite numbers"),
        (lambda: checks.check_array("X", np.zeros((2, 3)), shape=(2, 4)), "X must have shape (2, 4)"),
        (lambda: checks.check_seed("seed", -1), "seed must be an integer"),
    ],
)
def test_checks_name_the_parameter(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_checks_return_clean_values():
    assert checks.check_int("n", np.int64(3), low=1) == 3
    assert checks.check_float("s", 2, low=0) == 2.0
    assert checks.check_array("y", [1, 2]).dtype == np.float64


def test_scale_from_argument_and_environment(monkeypatch):
    monkeypatch.delenv("MEMCOMP_SCALE", raising=False)
    assert config.resolve_scale() == "fast"
    monkeypatch.setenv("MEMCOMP_SCALE", "paper")
    assert config.resolve_scale() == "paper"
    assert config.resolve_scale("fast") == "fast"
    monkeypatch.setenv("MEMCOMP_SCALE", "medium")
    with pytest.raises(ValueError, match="MEMCOMP_SCALE must be one of"):
        config.resolve_scale()


def test_device_resolution(monkeypatch):
    import torch

    monkeypatch.delenv("MEMCOMP_DEVICE", raising=False)
    assert config.resolve_device() == "cpu"
    assert config.resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device must be one of"):
        config.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            config.resolve_device("cuda")


def test_progress_can_be_silenced(monkeypatch):
    items = [1, 2, 3]
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")
    assert config.progress(items) is items
    monkeypatch.setenv("MEMCOMP_PROGRESS", "1")
    assert list(config.progress(items)) == items


def test_set_seed_makes_torch_repeatable():
    import torch

    config.set_seed(7)
    a = torch.rand(3)
    config.set_seed(7)
    assert torch.equal(a, torch.rand(3))
    with pytest.raises(ValueError, match="seed"):
        config.set_seed(-3)


def test_results_round_trip_and_atomic_write(tmp_path):
    path = write_json(tmp_path / "sub" / "r.json", {"a": np.float64(1.5), "b": np.arange(3), "c": (1, 2)})
    assert read_json(path) == {"a": 1.5, "b": [0, 1, 2], "c": [1, 2]}
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # no temporary file left

    target = tmp_path / "x.bin"
    atomic_write_bytes(target, b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub", "x.bin"]


def test_cli_help_and_list(capsys):
    assert cli.main([]) == 0
    assert "reproduce" in capsys.readouterr().out
    assert cli.main(["reproduce", "--list"]) == 0
    listed = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert name in listed
        assert load(name).DESCRIPTION


def test_unknown_experiment_is_a_clear_error():
    with pytest.raises(ValueError, match="experiment must be one of"):
        load("figure99")


def test_console_script_runs():
    exe = os.path.join(os.path.dirname(sys.executable), "memcomp")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert "usage: memcomp" in out


def test_wrong_types_are_type_errors_and_carry_the_parameter_name():
    with pytest.raises(TypeError, match="n must be an integer") as info:
        checks.check_int("n", 2.5, low=1)
    assert isinstance(info.value, ValueError) and info.value.name == "n"
    with pytest.raises(TypeError, match="sigma"):
        checks.check_float("sigma", "0.1")
    with pytest.raises(checks.ParameterError) as info:
        checks.check_float("sigma", -1.0, low=0)
    assert info.value.name == "sigma" and not isinstance(info.value, TypeError)


@pytest.mark.parametrize("value, fragment", [("abc", "got 'abc'"), ("0", "got 0"), ("2.5", "got '2.5'")])
def test_memcomp_threads_must_be_a_positive_integer(monkeypatch, value, fragment):
    monkeypatch.setenv("MEMCOMP_THREADS", value)
    with pytest.raises(ValueError, match=r"MEMCOMP_THREADS must be an integer in \[1, 1024\]") as info:
        config.set_threads()
    assert fragment in str(info.value)
    monkeypatch.setenv("MEMCOMP_THREADS", " 3 ")
    assert config.threads_from_env() == 3


def test_no_module_changes_torch_threads_at_import():
    code = (
        "import torch; torch.set_num_threads(3); before = torch.get_num_threads()\n"
        "import memcomp, memcomp.cli, memcomp.nets.train, memcomp.nets.influence, memcomp.plots.neural\n"
        "import memcomp.experiments.figure2, memcomp.experiments.table1, memcomp.experiments.table1_influence\n"
        "assert torch.get_num_threads() == before == 3, torch.get_num_threads()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "MEMCOMP_THREADS": "1"})


def test_environment_block_says_where_a_run_ran():
    import numpy
    import torch

    from memcomp import __version__
    from memcomp.results import environment

    env = environment("cpu", mixed_precision=False)
    assert env["memcomp"] == __version__ and env["numpy"] == numpy.__version__ and env["torch"] == torch.__version__
    assert env["threads"] == torch.get_num_threads()
    assert env["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert env["device"] == "cpu" and env["mixed_precision"] is False
    assert environment("cuda", mixed_precision=True)["mixed_precision"] is True


def test_prepare_out_creates_the_folder_and_refuses_what_it_cannot_write(tmp_path):
    from memcomp.results import prepare_out

    made = prepare_out(tmp_path / "a" / "b")
    assert made.is_dir() and list(made.iterdir()) == []  # the write probe is removed
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="--out must be a folder"):
        prepare_out(tmp_path / "file")
    with pytest.raises(OSError, match="--out '/proc/memcomp-x' is not a writable folder"):
        prepare_out("/proc/memcomp-x")


def test_cli_usage_errors_return_2_with_memcomp_error(capsys):
    assert cli.main(["reproduce", "table1", "--scale", "huge"]) == 2
    err = capsys.readouterr().err
    assert "memcomp: error: argument --scale: invalid choice: 'huge'" in err
    assert cli.main(["--version"]) == 0
