"""Run an elementwise update over cache-sized blocks, with scratch buffers that are reused.

An update such as Adam's is a chain of in-place ufuncs (``out=``). On a large array each ufunc
streams the whole array through memory, so a chain of ten costs ten passes. Cut into blocks that
stay in cache, the chain streams each input once and the intermediate passes hit the cache.
Blocks must not be too small either: a ufunc call costs about half a microsecond however short
its array, which a 16K-element block does not amortize (measured in benchmarks/optimizers.py).
Scratch buffers are kept per thread and dtype so a step allocates nothing (fresh large
allocations are mmapped and page-fault on first touch); small arrays, processed whole, keep
scratch of their own shape.
"""

from __future__ import annotations

import threading

import numpy as np

#: Elements per block: 128 Ki float32 values are 512 KiB; a step touches ~6 such blocks at once.
BLOCK = 1 << 17
#: Arrays up to this size get fresh scratch (cheaper than slicing and reshaping the workspace).
SMALL = 1 << 10

_local = threading.local()


def _workspace(dtype: np.dtype, count: int) -> list[np.ndarray]:
    """``count`` reusable 1-D scratch buffers of ``BLOCK`` elements of ``dtype``."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    buffers = cache.get(dtype)
    if buffers is None or len(buffers) < count or buffers[0].size < BLOCK:
        buffers = cache[dtype] = [np.empty(BLOCK, dtype) for _ in range(count)]
    return buffers


def _small_scratch(like: np.ndarray, count: int) -> tuple[np.ndarray, ...]:
    """``count`` reusable scratch arrays shaped and typed like the small array ``like``.

    Two fresh ``empty_like`` and a list cost about a microsecond per call, a third of a small
    SGD step's kernel; a parameter's shape comes back every step, so its scratch is kept.
    """
    cache = getattr(_local, "small", None)
    if cache is None or len(cache) > 256:  # bounded: a model has few distinct small shapes
        cache = _local.small = {}
    key = (like.shape, like.dtype, count)
    scratch = cache.get(key)
    if scratch is None:
        scratch = cache[key] = tuple(np.empty(like.shape, like.dtype) for _ in range(count))
    return scratch


def run_blocked(kernel, arrays: tuple, n_scratch: int, hyper: tuple) -> None:
    """Call ``kernel(*arrays, *scratch, *hyper)`` on the arrays as a whole or block by block.

    ``arrays`` are same-shaped ndarrays updated in place (``None`` entries pass through);
    ``scratch`` are ``n_scratch`` buffers of the block's shape the kernel may overwrite;
    ``hyper`` are the kernel's remaining (scalar) arguments, passed positionally because a
    keyword call costs a microsecond the runner's 10,000 small steps notice.
    """
    first = arrays[0]
    n = first.size
    if n <= SMALL:
        # _small_scratch's lookup inlined: a call is a tenth of a small step's kernel
        cache = getattr(_local, "small", None)
        scratch = None if cache is None else cache.get((first.shape, first.dtype, n_scratch))
        kernel(*arrays, *(scratch or _small_scratch(first, n_scratch)), *hyper)
        return
    if not all(a is None or a.flags.c_contiguous for a in arrays):
        kernel(*arrays, *[np.empty_like(first) for _ in range(n_scratch)], *hyper)
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    scratch = _workspace(first.dtype, n_scratch)
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        size = stop - start
        kernel(*[None if a is None else a[start:stop] for a in flat],
               *[s[:size] for s in scratch[:n_scratch]], *hyper)
