from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quadtui.core.history import MAX_BLOCKS, LossHistory


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=40), st.integers(1, 400))
def test_decimation_keeps_extremes_and_values(chunks, bins):
    rng = np.random.default_rng(len(chunks))
    history = LossHistory()
    parts = []
    for size in chunks:
        part = rng.random(size).astype(np.float32)
        history.append(part)
        parts.append(part)
    values = np.concatenate(parts)
    np.testing.assert_array_equal(history.values, values)
    series = history.decimate(bins)
    assert series.x.size <= max(bins, 1) + 1
    assert series.lo.min() == values.min() and series.hi.max() == values.max()
    assert np.all(series.lo <= series.hi)
    assert np.all(np.diff(series.x) > 0)


def test_summary_stays_bounded_for_long_histories():
    history = LossHistory()
    for _ in range(100):
        history.append(np.ones(20_000, dtype=np.float32))
    assert len(history) == 2_000_000
    assert -(-len(history) // history._block) <= MAX_BLOCKS
    assert history.decimate(300).x.size <= 301


def test_values_view_survives_growth():
    history = LossHistory(capacity=16)
    history.append(np.arange(10, dtype=np.float32))
    view = history.values
    history.append(np.arange(1000, dtype=np.float32))
    np.testing.assert_array_equal(view, np.arange(10))


def test_bytes_in_use_are_four_per_epoch_plus_a_fixed_summary():
    history = LossHistory(capacity=10_000_000)  # reserved up front, filled as losses arrive
    summary = history.used_bytes
    assert summary == 2 * MAX_BLOCKS * 4
    history.append(np.zeros(1000, dtype=np.float32))
    assert history.used_bytes == summary + 4000
    assert history.nbytes == 4 * 10_000_000 + summary


def test_frozen_history_does_not_change_while_the_original_grows():
    history = LossHistory()
    history.append(np.linspace(1, 2, 5000, dtype=np.float32))
    frozen = history.frozen()
    before = frozen.decimate(100)
    for _ in range(50):  # grows past several coarsenings
        history.append(np.full(20_000, 1000.0, dtype=np.float32))
    after = frozen.decimate(100)
    assert len(frozen) == 5000
    np.testing.assert_array_equal(before.hi, after.hi)
    assert after.hi.max() == 2.0
    with pytest.raises(ValueError):
        frozen.append(np.ones(3, dtype=np.float32))


def test_a_summary_is_small_and_draws_the_same_chart():
    history = LossHistory()
    rng = np.random.default_rng(5)
    for _ in range(30):
        history.append(rng.random(20_000).astype(np.float32))
    summary = history.summary()
    assert summary.used_bytes <= 2 * MAX_BLOCKS * 4 < history.used_bytes / 10
    assert len(summary) == len(history)
    for bins in (80, 320, 1000):
        full, small = history.decimate(bins), summary.decimate(bins)
        np.testing.assert_array_equal(full.x, small.x)
        np.testing.assert_array_equal(full.lo, small.lo)
        np.testing.assert_array_equal(full.hi, small.hi)
    short = LossHistory()
    short.append(np.arange(100, dtype=np.float32))
    np.testing.assert_array_equal(short.summary().values, short.values)  # short runs keep every value
