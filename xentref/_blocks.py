"""Blocks of rows: run a row-wise computation over a batch in cache-sized pieces.

The softmax family works row by row: a row is the class axis of one example.
Rather than forming temporaries the size of the whole input, a computation
is written as a *block function* of a range of rows, and :func:`run` calls
it on consecutive blocks whose float64 temporaries stay within a budget
(:data:`SETTINGS`), on a small pool of threads (NumPy releases the GIL
inside its loops, so two blocks run at once on two cores).

How to plug a computation in::

    rows = blocks.as_rows(logits, axis)          # (n, K) view, class axis last
    out = np.empty(rows.shape, dtype)            # optional: per-element results

    def block(start, stop):
        z = rows[start:stop]                     # a view; copy only if needed
        ...                                      # row-wise NumPy work
        out[start:stop] = ...                    # write your own rows only
        return (losses,)                         # per-row arrays, length stop - start

    (losses,) = blocks.run(block, rows.shape[0], rows.shape[1], budget=blocks.budget_for(logits.dtype))

Temporaries come from :func:`scratch`, a per-thread workspace reused from
block to block. A block function must compute each row from that row alone (and may read
per-row side inputs such as labels at the same rows), write only the rows
it was given, and return a tuple of 1-D arrays with one entry per row;
:func:`run` concatenates them in row order. Under that contract the results
do not depend on the block size nor on the number of threads. Raise
:class:`Refused` when a row is invalid: :func:`run` re-raises it and the
caller then runs its named input check, which finds the first offending
entry and says what is wrong.

The caller's floating-point error settings (``np.errstate``) are applied in
the worker threads too.
"""

import contextlib
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np


class Refused(Exception):
    """A block found a row its input check refuses; the check gives the message."""


@dataclass
class Settings:
    """How :func:`run` cuts and schedules the work.

    budget : int
        Elements of one float64 temporary of a block (rows times classes):
        2**18 (2 MiB), so that the four or five temporaries of a block and
        the block of input stay in the last-level cache, and the fixed cost
        of a block (some tens of microseconds) is a small part of its work.
    threads : int
        Worker threads; 1 runs every block in the calling thread.
    min_parallel : int
        Inputs with fewer elements run in the calling thread, where a thread
        pool would cost more than it saves.
    """

    budget: int = 2**18
    threads: int = min(2, len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else 2
    min_parallel: int = 2**18


SETTINGS = Settings()
_pool = None
_pool_size = 0
_workspace = threading.local()


@contextlib.contextmanager
def configured(**changes):
    """Temporarily change :data:`SETTINGS` (for tests and benchmarks)."""
    previous = {name: getattr(SETTINGS, name) for name in changes}
    for name, value in changes.items():
        setattr(SETTINGS, name, value)
    try:
        yield SETTINGS
    finally:
        for name, value in previous.items():
            setattr(SETTINGS, name, value)


def as_rows(x, axis):
    """`x` with its class axis `axis` moved last and the other axes merged: shape (n, K).

    A view whenever the layout allows it (always for C- or Fortran-ordered
    input); otherwise a copy.
    """
    moved = np.moveaxis(x, axis, -1)
    shape = (-1, moved.shape[-1]) if moved.shape[-1] else (moved.size, 0)
    # A copy only where the batch axes' strides do not merge (a slice with
    # steps, say); NumPy 2.0 has no reshape(copy=False) to ask for a view.
    return moved.reshape(shape)


def from_rows(values, x, axis):
    """Per-row `values` (n,) or per-element `values` (n, K) in the layout of `x`."""
    # A view of no memory with the shape of `x`: only its shape is needed.
    moved_shape = np.moveaxis(np.broadcast_to(np.empty((), dtype=np.bool_), x.shape), axis, -1).shape
    if values.ndim == 1:
        return values.reshape(moved_shape[:-1])
    return np.moveaxis(values.reshape(moved_shape), -1, axis)


def row_spans(n_rows, row_size, budget=None):
    """Consecutive ``(start, stop)`` ranges of rows, each within the budget (at least one row)."""
    budget = SETTINGS.budget if budget is None else budget
    per_block = max(1, budget // max(row_size, 1))
    return [(start, min(start + per_block, n_rows)) for start in range(0, n_rows, per_block)]


def column_spans(row_size, budget=None):
    """Consecutive ``(start, stop)`` ranges of classes, each within the budget."""
    budget = SETTINGS.budget if budget is None else budget
    width = max(1, budget)
    return [(start, min(start + width, row_size)) for start in range(0, row_size, width)]


def scratch(name, shape, dtype=np.float64):
    """An array of `shape` (float64 unless `dtype`) from this thread's workspace, under `name`.

    Blocks reuse the same few arrays rather than allocating fresh ones, whose
    first touch costs page faults (several times the arithmetic done on
    them). An array is valid until the same thread asks for `name` again:
    a block must not hold two live arrays under one name.
    """
    size = math.prod(shape) * np.dtype(dtype).itemsize
    buffers = getattr(_workspace, "buffers", None)
    if buffers is None:
        buffers = _workspace.buffers = {}
    buffer = buffers.get(name)
    if buffer is None or buffer.size < size:
        buffer = buffers[name] = np.empty(max(size, 8 * min(SETTINGS.budget, 2**20)), dtype=np.uint8)
    return buffer[:size].view(dtype).reshape(shape)


def _executor(threads):
    global _pool, _pool_size
    if _pool is None or _pool_size != threads:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xentref")
        _pool_size = threads
    return _pool


def budget_for(dtype):
    """The block budget for input of `dtype`: float64 rows need five
    temporaries per block, narrower ones (computed in float64) one or two,
    so their blocks hold twice as many rows."""
    return SETTINGS.budget if np.dtype(dtype) == np.float64 else 2 * SETTINGS.budget


def run(block, n_rows, row_size, n_results=1, check=None, budget=None):
    """Call ``block(start, stop)`` over all rows; return its per-row results concatenated.

    Parameters
    ----------
    block : callable
        ``block(start, stop)`` returns a tuple of `n_results` 1-D arrays of
        length ``stop - start`` (or None when it has nothing to return).
    n_rows, row_size : int
        The number of rows and of classes in a row.
    n_results : int
        How many arrays `block` returns.
    check : callable, optional
        Called when a block raises :class:`Refused`; it must raise the
        error that names the offending entry.
    budget : int, optional
        Elements of a block (rows times classes); by default
        ``SETTINGS.budget`` (see :func:`budget_for`).

    Returns
    -------
    list of ndarray
        `n_results` arrays of length `n_rows` (empty float64 arrays for no rows).
    """
    spans = row_spans(n_rows, row_size, budget)
    settings = np.geterr()

    def call(span):
        with np.errstate(**settings):
            return block(*span)

    try:
        if SETTINGS.threads > 1 and len(spans) > 1 and n_rows * row_size >= SETTINGS.min_parallel:
            futures = [_executor(SETTINGS.threads).submit(call, span) for span in spans]
            try:
                results = [future.result() for future in futures]
            finally:
                for future in futures:
                    future.cancel()
        else:
            results = [call(span) for span in spans]
    except Refused:
        if check is None:
            raise
        check()
        raise RuntimeError("a block refused rows that their check accepts") from None
    if not results or results[0] is None:
        return [np.empty(0) for _ in range(n_results)]
    return [np.concatenate([result[i] for result in results]) for i in range(n_results)]
