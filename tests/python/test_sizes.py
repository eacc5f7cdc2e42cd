"""Sizes formed from products of dimensions are checked (issue 10): a network whose weights
cannot be addressed is refused with a ValueError naming the layer, never a crash."""
import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core


@pytest.mark.parametrize("make, message", [
    (lambda: fm.Sequential([fm.Dense(2 ** 62)], input_dim=2).build(2),
     r"layer 0 \(2 inputs, 4611686018427387904 units\) needs too many weights"),
    (lambda: fm.Sequential([fm.Dense(4)], input_dim=2 ** 61).build(2 ** 61),
     r"layer 0 \(2305843009213693952 inputs, 4 units\)"),
    (lambda: fm.Sequential([fm.Dense(2 ** 31, activation="relu"), fm.Dense(2 ** 33)], input_dim=1).build(1),
     r"layer 1 \(2147483648 inputs, 8589934592 units\)"),
    (lambda: _core.Network32(3, [_core.LayerSpec(units=2 ** 60)]), r"layer 0 .*too many weights"),
])
def test_a_network_too_large_to_address_is_refused_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_an_mlp_with_an_impossible_hidden_layer_is_refused_naming_it():
    pytest.importorskip("sklearn")
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=r"layer 0 \(3 inputs, 4611686018427387904 units\)"):
        fm.MLPClassifier(hidden_layer_sizes=(2 ** 62,), max_iter=1).fit(X, y)
