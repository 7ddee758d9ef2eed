"""The recorded runs shipped in memcomp.records load, and say what their names say."""

from __future__ import annotations

import pytest

from memcomp.records import RECORDS, load_record


@pytest.mark.parametrize("name", RECORDS)
def test_every_record_loads_with_its_experiment(name):
    payload = load_record(name)
    assert payload["experiment"] == name.split("/")[1] and payload["records"]


@pytest.mark.parametrize("name", [n for n in RECORDS if n.startswith("cpu-wd-")])
def test_weight_decay_reading_records_hold_their_reading_and_encoder(name):
    folder = name.split("/")[0]
    encoder, mode = folder.removeprefix("cpu-wd-").split("-", 1)
    payload = load_record(name)
    assert payload["config"]["weight_decay_mode"] == mode
    assert payload["config"]["encoder"] == {"plain": "plain_cnn", "batchnorm": "batchnorm_cnn"}[encoder]
    assert {r["weight_decay_mode"] for r in payload["records"]} == {mode}
    assert {r["weight_decay"] for r in payload["records"]} == {0.0, 0.5}


def test_unknown_record_names_the_choices():
    with pytest.raises(ValueError, match="name must be one of cpu-fast/table1"):
        load_record("nope/table1")


@pytest.mark.parametrize(
    "name", [n for n in RECORDS if "rows8000-" in n.split("/")[0]]
)
def test_8000_row_reading_records_hold_their_reading_size_and_seed(name):
    # folder: ...rows8000-MODE, or ...rows8000-MODE-seedS for a run started at seed S
    mode, _, seed = name.split("/")[0].split("rows8000-")[1].partition("-seed")
    payload = load_record(name)
    assert payload["config"]["n_train"] == 8000
    assert payload["config"]["seed"] == int(seed or 0)
    assert payload["config"]["weight_decay_mode"] == mode
    assert {r["weight_decay_mode"] for r in payload["records"]} == {mode}
