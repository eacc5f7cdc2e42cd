"""Tests for fastmlp.datasets.splitting: train_test_split, plain and stratified."""

import math

import numpy as np
import pytest

from fastmlp import datasets as ds


@pytest.mark.parametrize("n, test_size, train_size", [
    (100, None, None), (10, None, None), (10, 0.33, None), (10, None, 0.33), (7, 3, None),
    (7, None, 5), (20, 0.2, 0.5), (20, 4, 10), (9, 0.5, None), (11, 0.1, 0.9),
])
def test_split_sizes_match_scikit_learn(n, test_size, train_size):
    from sklearn.model_selection import train_test_split as sk_split

    X = np.arange(n)
    ours = ds.train_test_split(X, test_size=test_size, train_size=train_size, random_state=0)
    theirs = sk_split(X, test_size=test_size, train_size=train_size, random_state=0)
    assert [len(part) for part in ours] == [len(part) for part in theirs]


def test_split_return_order_alignment_and_partition():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20) * 10
    w = [f"s{i}" for i in range(20)]
    X_tr, X_te, y_tr, y_te, w_tr, w_te = ds.train_test_split(X, y, w, test_size=0.25,
                                                             random_state=0)
    assert X_tr.shape == (15, 2) and X_te.shape == (5, 2)
    np.testing.assert_array_equal(X_tr[:, 0] * 5, y_tr)
    np.testing.assert_array_equal(X_te[:, 0] * 5, y_te)
    assert [f"s{v // 10}" for v in y_te] == w_te.tolist()
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == y.tolist()
    assert not np.array_equal(np.sort(y_tr), y_tr)  # shuffled


def test_split_reproducible_by_seed():
    X = np.arange(50)
    a = ds.train_test_split(X, random_state=5)
    b = ds.train_test_split(X, random_state=5)
    c = ds.train_test_split(X, random_state=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_split_without_shuffle_takes_leading_rows():
    X = np.arange(10)
    train, test = ds.train_test_split(X, test_size=3, shuffle=False)
    np.testing.assert_array_equal(train, np.arange(7))
    np.testing.assert_array_equal(test, [7, 8, 9])
    train, test = ds.train_test_split(X, test_size=2, train_size=5, shuffle=False)
    np.testing.assert_array_equal(train, np.arange(5))
    np.testing.assert_array_equal(test, [5, 6])


@pytest.mark.parametrize("counts, test_size, expected_test", [
    ([60, 40], 0.25, [15, 10]),
    ([50, 30, 20], 0.1, [5, 3, 2]),
    ([40, 40, 20], 0.5, [20, 20, 10]),
    ([2, 2, 2, 94], 10, [1, 1, 1, 7]),   # small classes still appear in the test part
    ([1, 9, 10], 0.5, [0, 5, 5]),        # a single member stays in train
])
def test_stratified_split_exact_proportions(counts, test_size, expected_test):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(y.size)
    X_tr, X_te, y_tr, y_te = ds.train_test_split(X, y, test_size=test_size, stratify=y,
                                                 random_state=0)
    assert np.bincount(y_te, minlength=len(counts)).tolist() == expected_test
    assert (np.bincount(y_tr, minlength=len(counts)) + np.bincount(y_te, minlength=len(counts))
            ).tolist() == counts
    np.testing.assert_array_equal(y[X_te], y_te)
    assert len(set(X_tr.tolist()) | set(X_te.tolist())) == y.size


def test_stratified_split_each_class_gets_floor_or_ceiling_of_its_share():
    rng = np.random.default_rng(0)
    for trial in range(30):
        counts = rng.integers(2, 40, size=rng.integers(2, 6))
        y = rng.permutation(np.repeat(np.arange(counts.size), counts))
        n = y.size
        test_size = float(rng.uniform(0.2, 0.6))
        _, y_te = ds.train_test_split(y, test_size=test_size, stratify=y, random_state=trial)
        n_test = math.ceil(test_size * n)
        assert y_te.size == n_test
        share = counts * n_test / n
        got = np.bincount(y_te, minlength=counts.size)
        assert np.all(got >= np.maximum(np.floor(share), 1)), (counts, n_test, got)
        assert np.all(got <= np.ceil(share)), (counts, n_test, got)


def test_stratified_split_with_explicit_train_size_leaves_rest_out():
    y = np.repeat([0, 1], [50, 50])
    y_tr, y_te = ds.train_test_split(y, train_size=0.4, test_size=0.2, stratify=y,
                                     random_state=0)
    assert np.bincount(y_tr).tolist() == [20, 20]
    assert np.bincount(y_te).tolist() == [10, 10]


def test_stratified_split_string_labels_and_reproducible():
    y = np.array(["a"] * 6 + ["b"] * 3 + ["c"] * 3)
    first = ds.train_test_split(y, test_size=4, stratify=y, random_state=2)
    second = ds.train_test_split(y, test_size=4, stratify=y, random_state=2)
    np.testing.assert_array_equal(first[1], second[1])
    assert sorted(first[1].tolist()) == ["a", "a", "b", "c"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(test_size=1.5), r"test_size=1.5 must be a float in \(0, 1\)"),
    (dict(test_size=0.0), r"test_size=0.0 must be a float in \(0, 1\)"),
    (dict(test_size=10), r"test_size=10 must be in \[1, 9\] as a count \(there are 10 samples\)"),
    (dict(test_size=0), r"test_size=0 must be in \[1, 9\]"),
    (dict(train_size=-2), r"train_size=-2 must be in \[1, 9\]"),
    (dict(test_size="half"), "test_size must be a float in"),
    (dict(test_size=True), "test_size must be a float in"),
    (dict(test_size=6, train_size=5), r"train_size \+ test_size = 5 \+ 6 samples exceeds the 10"),
    (dict(test_size=0.6, train_size=0.6), "exceeds the 10 samples"),
    (dict(test_size=0.95), "the train set would be empty"),
    (dict(train_size=0.05, test_size=2), "the train set would be empty"),
    (dict(shuffle=False, stratify=np.zeros(10)), "stratify requires shuffle=True"),
    (dict(stratify=np.zeros(9)), "stratify has 9 labels but the arrays have 10 samples"),
    (dict(random_state="x"), "random_state"),
])
def test_split_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ds.train_test_split(np.arange(10), **kwargs)


def test_split_errors_on_arrays():
    with pytest.raises(ValueError, match="at least one array"):
        ds.train_test_split()
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[10, 9\]"):
        ds.train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="need at least 2 samples to split, got 1"):
        ds.train_test_split(np.arange(1))
    with pytest.raises(ValueError, match="array 0 must be an array of samples, got a scalar"):
        ds.train_test_split(np.float64(3.0))


def test_stratified_split_impossible_sizes():
    y = np.repeat(np.arange(5), 4)  # 5 classes of 4
    with pytest.raises(ValueError, match="cannot hold each of the 5 classes"):
        ds.train_test_split(y, test_size=3, stratify=y)
    y = np.array([0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="cannot put 5 samples in the test part"):
        ds.train_test_split(y, test_size=5, stratify=y)
