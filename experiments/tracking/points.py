"""Metric points kept as the steps that made them, so the writer never builds a Python object per point.

The optimisation loop hands the writer one block per recorded step: ``(step, timestamp_ms, keys, values)``, the
keys and values as lists. :class:`Points` holds a run of such blocks and reads as the sequence of
``(key, value, timestamp_ms, step)`` points they stand for (what ``log_batch``, the spool and the sync path take),
while :func:`columns` gives the fast SQL path the same points as four columns built in numpy's C loops.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Sequence

import numpy as np

Block = tuple[int, int, Sequence[str], Sequence[float]]  # step, timestamp in ms, metric keys, values


class Points(Sequence):
    """The points of ``blocks``, in order: each block's keys with its values, at its step and timestamp."""

    __slots__ = ("blocks", "_ends")

    def __init__(self, blocks: Sequence[Block] = ()) -> None:
        self.blocks = list(blocks)
        self._ends = list(itertools.accumulate(len(b[2]) for b in self.blocks))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __iter__(self) -> Iterator[tuple]:
        for step, timestamp, keys, values in self.blocks:
            for key, value in zip(keys, values):
                yield key, value, timestamp, step

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("Points index out of range")
        block = bisect.bisect_right(self._ends, index)
        step, timestamp, keys, values = self.blocks[block]
        within = index - (self._ends[block - 1] if block else 0)
        return keys[within], values[within], timestamp, step

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == tuple(b) for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"Points({len(self)} points in {len(self.blocks)} steps)"

    def split(self, count: int) -> tuple["Points", "Points"]:
        """(the first ``count`` points, the rest), a block cut in two where ``count`` falls inside it."""
        block = bisect.bisect_left(self._ends, count)
        if block == len(self.blocks):
            return self, Points()
        head, tail = self.blocks[:block], self.blocks[block:]
        within = count - (self._ends[block - 1] if block else 0)
        if within:
            step, timestamp, keys, values = tail[0]
            head.append((step, timestamp, keys[:within], values[:within]))
            tail[0] = (step, timestamp, keys[within:], values[within:])
        return Points(head), Points(tail)

    def tolist(self) -> list[list]:
        """The points as JSON-ready lists (the spool's form)."""
        return [list(point) for point in self]


def columns(points: Sequence) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """``(keys, values, timestamps, steps)`` of ``points`` (a :class:`Points` or any sequence of
    ``(key, value, timestamp_ms, step)``): keys a list, values float64, timestamps and steps int64 arrays."""
    if isinstance(points, Points):
        blocks = points.blocks
        keys = list(itertools.chain.from_iterable(b[2] for b in blocks))
        values = np.fromiter(itertools.chain.from_iterable(b[3] for b in blocks), dtype=np.float64,
                             count=len(keys))
        sizes = np.fromiter((len(b[2]) for b in blocks), dtype=np.int64, count=len(blocks))
        timestamps = np.repeat(np.fromiter((b[1] for b in blocks), dtype=np.int64, count=len(blocks)), sizes)
        steps = np.repeat(np.fromiter((b[0] for b in blocks), dtype=np.int64, count=len(blocks)), sizes)
        return keys, values, timestamps, steps
    if not points:
        empty = np.zeros(0, dtype=np.int64)
        return [], np.zeros(0), empty, empty
    keys, values, timestamps, steps = zip(*points)
    return (list(keys), np.asarray(values, dtype=np.float64), np.asarray(timestamps, dtype=np.int64),
            np.asarray(steps, dtype=np.int64))
