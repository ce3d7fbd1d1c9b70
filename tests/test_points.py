"""Points kept as the steps' blocks read as the list of (key, value, timestamp, step) points they stand for, cut
anywhere, and give the same columns as that list."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from experiments.tracking.points import Points, columns

BLOCKS = [(0, 100, ["loss", "a.0", "a.1"], [3.0, 0.5, -1.0]), (1, 101, ["loss"], [float("nan")]),
          (2, 103, ["loss", "a.0", "a.1", "Summary/final"], [1.0, 0.25, float("inf"), 1.0])]
AS_LIST = [(k, v, ts, step) for step, ts, keys, values in BLOCKS for k, v in zip(keys, values)]


def same(a, b) -> bool:
    return repr(list(a)) == repr(list(b))  # NaN equal to NaN


def test_points_read_as_the_list_they_stand_for():
    points = Points(BLOCKS)
    assert len(points) == len(AS_LIST) == 8
    assert same(points, AS_LIST)
    assert [points[i] for i in range(len(points))] == [points[i - 8] for i in range(8)]
    assert same([points[i] for i in range(8)], AS_LIST)
    assert points[-1] == ("Summary/final", 1.0, 103, 2)
    assert same(points[2:5], AS_LIST[2:5])
    with pytest.raises(IndexError):
        points[8]
    assert Points() == [] and len(Points()) == 0 and list(Points()) == []
    assert Points(BLOCKS[:1]) == AS_LIST[:3] and Points(BLOCKS[:1]) != AS_LIST[:2]


@pytest.mark.parametrize("count", range(9))
def test_a_split_anywhere_keeps_every_point_once_in_order(count):
    head, tail = Points(BLOCKS).split(count)
    assert len(head) == count
    assert same([*head, *tail], AS_LIST)
    assert all(len(keys) == len(values) for _, _, keys, values in [*head.blocks, *tail.blocks])


def test_columns_of_blocks_equal_those_of_the_list():
    for a, b in zip(columns(Points(BLOCKS)), columns(AS_LIST)):
        assert repr(list(a)) == repr(list(b))
    keys, values, timestamps, steps = columns(Points(BLOCKS))
    assert values.dtype == np.float64 and timestamps.dtype == steps.dtype == np.int64
    assert steps.tolist() == [0, 0, 0, 1, 2, 2, 2, 2] and math.isnan(values[3])
    assert [len(c) for c in columns([])] == [0, 0, 0, 0]


def test_points_go_into_a_spool_line_as_lists():
    from experiments.tracking.spool import _listed

    line = json.dumps({"op": "metrics", "points": Points(BLOCKS[:1])}, default=_listed)
    assert json.loads(line)["points"] == [list(p) for p in AS_LIST[:3]]
