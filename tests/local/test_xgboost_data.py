"""The XGBoost emulation reads CSV and libsvm channels block by block, and trains and predicts on them as
xgboost does on the same data held in memory."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost

from modelbuild.local.algorithms import blocks
from modelbuild.local.algorithms.blocks import csv_blocks, libsvm_blocks, line_blocks
from modelbuild.local.algorithms.xgboost_train import load_channel
from modelbuild.local.algorithms.xgboost_transform import load_booster, predict_file, prediction_lines

PARAMS = {"objective": "reg:squarederror", "max_depth": 3, "eta": 0.3}
ROWS = np.array([[2 * a + b + 0.5, a, b, (a * b) % 7] for a in range(30) for b in range(10)], dtype=np.float32)


def write_csv(path: Path, rows: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(f"{v:g}" for v in row) + "\n" for row in rows))
    return path


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 40 values (10 four-column rows) and 64 bytes, so small files span many blocks."""
    monkeypatch.setattr(blocks, "BLOCK_VALUES", 40)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 64)


def in_memory_model(rows: np.ndarray, rounds: int = 5) -> xgboost.Booster:
    return xgboost.train(PARAMS, xgboost.DMatrix(rows[:, 1:], label=rows[:, 0]), rounds)


def test_csv_is_read_in_blocks_of_about_the_requested_size(tmp_path, small_blocks):
    path = write_csv(tmp_path / "train.csv", ROWS)

    parts = list(csv_blocks(path))

    assert {len(part) for part in parts[:-1]} == {10}
    assert np.array_equal(np.vstack(parts), ROWS)
    assert parts[0].dtype == np.float32


def test_blank_lines_are_skipped_and_an_empty_field_is_a_missing_value(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("1,2,3\n\n4,,6\n")

    (block,) = csv_blocks(path)

    assert block.shape == (2, 3)
    assert np.isnan(block[1, 1])


def test_a_field_that_is_not_a_number_ends_the_job_naming_the_file(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("1,2\n3,abc\n")

    with pytest.raises(SystemExit, match="train.csv: not numeric CSV"):
        list(csv_blocks(path))


def test_line_blocks_never_split_a_line(tmp_path):
    path = tmp_path / "data.txt"
    lines = [b"short\n", b"a much longer line than one block\n", b"x\n", b"last without newline"]
    path.write_bytes(b"".join(lines))

    parts = list(line_blocks(path, 8))

    assert b"".join(parts) == b"".join(lines)
    assert all(part.endswith(b"\n") for part in parts[:-1])


def test_libsvm_keeps_feature_indices_as_written(tmp_path, small_blocks):
    path = tmp_path / "train.libsvm"
    path.write_text("".join(f"{i} 1:{i} 3:{2 * i}\n" for i in range(1, 20)))

    parts = list(libsvm_blocks(path))

    assert len(parts) > 1
    features = np.vstack([part.toarray() for part, _ in parts])
    assert features[0].tolist() == [0, 1, 0, 2]
    assert np.concatenate([labels for _, labels in parts]).tolist() == list(range(1, 20))


def test_a_channel_spanning_many_blocks_trains_like_the_same_data_in_memory(tmp_path, small_blocks):
    folder = tmp_path / "train"
    write_csv(folder / "part-1.csv", ROWS[:150])
    write_csv(folder / "part-2.csv", ROWS[150:])

    matrix = load_channel(folder, "text/csv", tmp_path / "scratch", PARAMS)

    assert isinstance(matrix, xgboost.QuantileDMatrix)
    assert (matrix.num_row(), matrix.num_col()) == (len(ROWS), 3)
    assert np.array_equal(matrix.get_label(), ROWS[:, 0])
    ours = xgboost.train(PARAMS, matrix, 5).predict(xgboost.DMatrix(ROWS[:, 1:]))
    np.testing.assert_allclose(ours, in_memory_model(ROWS).predict(xgboost.DMatrix(ROWS[:, 1:])), rtol=0.05)


def test_a_channel_in_one_block_trains_exactly_like_the_same_data_in_memory(tmp_path):
    folder = tmp_path / "train"
    write_csv(folder / "train.csv", ROWS)

    booster = xgboost.train(PARAMS, load_channel(folder, "text/csv", tmp_path / "scratch", PARAMS), 5)

    features = xgboost.DMatrix(ROWS[:, 1:])
    assert np.array_equal(booster.predict(features), in_memory_model(ROWS).predict(features))


def test_tree_methods_that_need_raw_values_get_a_plain_matrix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # xgboost writes its DMatrix page files into the working directory, as a job's
    folder = tmp_path / "train"
    write_csv(folder / "train.csv", ROWS)
    params = {**PARAMS, "tree_method": "exact"}

    matrix = load_channel(folder, "text/csv", tmp_path / "scratch", params)

    assert not isinstance(matrix, xgboost.QuantileDMatrix)
    assert xgboost.train(params, matrix, 2).num_boosted_rounds() == 2


def test_libsvm_files_of_different_widths_form_one_matrix_as_wide_as_the_widest(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "a.libsvm").write_text("".join(f"{i} 0:{i}\n" for i in range(10)))
    (folder / "b.libsvm").write_text("".join(f"{i} 0:{i} 4:{i % 3}\n" for i in range(10)))

    matrix = load_channel(folder, "text/libsvm", tmp_path / "scratch", PARAMS)

    assert (matrix.num_row(), matrix.num_col()) == (20, 5)


def test_csv_files_with_different_columns_in_one_channel_are_refused(tmp_path):
    folder = tmp_path / "train"
    write_csv(folder / "a.csv", ROWS[:, :3])
    write_csv(folder / "b.csv", ROWS)

    with pytest.raises(SystemExit, match="b.csv has 4 columns"):
        load_channel(folder, "text/csv", tmp_path / "scratch", PARAMS)


def test_validation_is_binned_with_the_training_channels_cuts(tmp_path):
    write_csv(tmp_path / "train" / "train.csv", ROWS)
    write_csv(tmp_path / "validation" / "validation.csv", ROWS[::4])
    train = load_channel(tmp_path / "train", "text/csv", tmp_path / "scratch", PARAMS)

    validation = load_channel(tmp_path / "validation", "text/csv", tmp_path / "scratch", PARAMS, train)

    history: dict = {}
    xgboost.train(PARAMS, train, 3, evals=[(validation, "validation")], evals_result=history, verbose_eval=False)
    assert len(history["validation"]["rmse"]) == 3


@pytest.fixture
def model_archive(tmp_path) -> Path:
    raw = in_memory_model(ROWS).save_raw(raw_format="ubj")
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(bytes(raw)))
    return archive


def test_batch_transform_streams_one_prediction_per_record(tmp_path, model_archive, small_blocks):
    source = write_csv(tmp_path / "input" / "features.csv", ROWS[:, 1:])
    booster = load_booster(model_archive)

    count = predict_file(booster, source, tmp_path / "output" / "features.csv.out")

    lines = (tmp_path / "output" / "features.csv.out").read_text().splitlines()
    assert count == len(lines) == len(ROWS)
    expected = booster.predict(xgboost.DMatrix(ROWS[:, 1:]))
    assert [float(line) for line in lines] == [float(value) for value in expected]


def test_batch_transform_of_an_empty_file_writes_an_empty_output(tmp_path, model_archive):
    source = tmp_path / "empty.csv"
    source.write_text("\n")

    assert predict_file(load_booster(model_archive), source, tmp_path / "empty.csv.out") == 0
    assert (tmp_path / "empty.csv.out").read_text() == ""


def test_a_multi_output_model_writes_its_values_comma_separated_on_each_records_line():
    assert prediction_lines(np.array([[0.25, 0.75], [1.0, 0.0]], dtype=np.float32)) == "0.25,0.75\n1.0,0.0\n"
