"""The run's trajectory buffer: rows kept in arrays that grow, taken whole by a checkpoint and restored from one
(also from a checkpoint whose rows were saved as a list, as a key whose shape changes keeps them)."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import checkpoint
from experiments.trajectory import TrajectoryBuffer


def rows_of(step: int) -> dict:
    rows = {"param/a": np.array([step, step + 0.5]), "lr": np.float64(0.1 / (step + 1))}
    if step >= 3:  # a state key the optimizer holds from its third step on
        rows["exp_avg/a"] = np.array([step * 2.0, -1.0], dtype=np.float32)
    if step >= 5:  # a key whose shape changes: no (k, *shape) array for it
        rows["history/a"] = np.zeros(step % 3 + 1)
    return rows


def filled(steps: int) -> TrajectoryBuffer:
    buffer = TrajectoryBuffer()
    for step in range(steps):
        buffer.add(step, float(step) ** 2, rows_of(step))
    return buffer


def test_arrays_hold_every_row_with_nan_where_a_key_was_not_held_yet():
    arrays = filled(40).arrays()  # more rows than the first allocation: the arrays grew
    assert set(arrays) == {"step", "loss", "param/a", "lr", "exp_avg/a"}
    assert np.array_equal(arrays["step"], np.arange(40)) and np.array_equal(arrays["loss"], np.arange(40.0) ** 2)
    assert arrays["param/a"].shape == (40, 2) and arrays["param/a"][39].tolist() == [39.0, 39.5]
    assert arrays["exp_avg/a"].dtype == np.float32
    assert np.isnan(arrays["exp_avg/a"][:3]).all() and arrays["exp_avg/a"][3].tolist() == [6.0, -1.0]


def test_a_buffer_restored_from_a_checkpoint_continues_as_the_original(tmp_path):
    original = filled(37)
    path = checkpoint.save({"trajectory": original.state()}, tmp_path / "step.npz")
    restored = TrajectoryBuffer.from_state(checkpoint.load(path)["trajectory"])
    for buffer in (original, restored):
        for step in range(37, 70):
            buffer.add(step, float(step) ** 2, rows_of(step))
    expected, got = original.arrays(), restored.arrays()
    assert set(expected) == set(got)
    for key in expected:
        assert np.array_equal(expected[key], got[key], equal_nan=True), key
        assert expected[key].dtype == got[key].dtype, key


def test_a_checkpoint_taken_later_is_not_changed_by_rows_added_after_it(tmp_path):
    buffer = filled(20)
    path = checkpoint.save({"trajectory": buffer.state()}, tmp_path / "step.npz")
    for step in range(20, 100):
        buffer.add(step, 0.0, rows_of(step))
    saved = TrajectoryBuffer.from_state(checkpoint.load(path)["trajectory"]).arrays()
    assert len(saved["step"]) == 20 and saved["param/a"][19].tolist() == [19.0, 19.5]


def test_rows_saved_as_a_list_of_arrays_are_restored():
    state = {"steps": np.arange(3), "losses": np.ones(3),
             "rows": {"param/a": {"rows": np.arange(3), "values": [np.ones(2), np.ones(2) * 2, np.ones(2) * 3]}}}
    buffer = TrajectoryBuffer.from_state(state)
    buffer.add(3, 1.0, {"param/a": np.ones(2) * 4})
    assert buffer.arrays()["param/a"][:, 0].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_stretches_saved_at_each_checkpoint_restore_the_whole_buffer(tmp_path):
    buffer, states, since = TrajectoryBuffer(), [], 0
    for end in (4, 5, 17, 17, 40):  # a stretch of one row, an empty one, one where a key changes its shape
        for step in range(len(buffer), end):
            buffer.add(step, float(step) ** 2, rows_of(step))
        path = checkpoint.save({"trajectory": buffer.state(since)}, tmp_path / f"rows-{end}.npz")
        states.append(checkpoint.load(path)["trajectory"])
        since = len(buffer)
    restored = TrajectoryBuffer.from_state(*states)
    for each in (buffer, restored):
        each.add(40, 1.0, rows_of(40))
    expected, got = buffer.arrays(), restored.arrays()
    assert set(expected) == set(got) == {"step", "loss", "param/a", "lr", "exp_avg/a"}
    for key in expected:
        assert np.array_equal(expected[key], got[key], equal_nan=True), key
        assert expected[key].dtype == got[key].dtype, key
    assert [a.tolist() for a in restored._columns["history/a"].ragged] == \
        [a.tolist() for a in buffer._columns["history/a"].ragged]


def test_a_stretch_missing_is_refused_not_misnumbered():
    buffer = filled(30)
    with pytest.raises(ValueError, match="trajectory rows from 20 follow 10 rows"):
        TrajectoryBuffer.from_state(filled(10).state(0), buffer.state(20))


def test_the_archive_reads_back_every_array_as_written_deflating_only_what_shrinks(tmp_path):
    import zipfile

    from experiments.trajectory import read_arrays, write_npz

    noise = np.random.default_rng(0).standard_normal((300, 1000)).astype(np.float32)  # 1.2 MB: does not shrink
    arrays = {"step": np.arange(300, dtype=np.int64), "loss": np.linspace(3.0, 0.1, 300), "param/w": noise,
              "grad/w": np.asfortranarray(noise[:, :7]), "lr": np.float64(0.1), "empty": np.zeros((0, 3)),
              "flag": np.array([True, False]), "big-endian": np.arange(4, dtype=">f8")}
    write_npz(tmp_path / "t.npz", arrays)
    back = read_arrays(tmp_path / "t.npz")
    assert sorted(back) == sorted(arrays)
    for key, array in arrays.items():
        assert back[key].dtype == np.asarray(array).dtype and back[key].shape == np.shape(array), key
        np.testing.assert_array_equal(back[key], array, err_msg=key)
    with zipfile.ZipFile(tmp_path / "t.npz") as archive:
        methods = {info.filename: info.compress_type for info in archive.infolist()}
    assert methods["param/w.npy"] == zipfile.ZIP_STORED
    assert methods["step.npy"] == zipfile.ZIP_DEFLATED
