"""01 - Forward propagation through a single neuron, by hand and with fastmlp.

The idea: a neuron receives inputs x1, x2, x3, multiplies each by its own weight
(how much that input matters to the neuron), adds the products and a bias into the
net input z = w1*x1 + w2*x2 + w3*x3 + b, and fires o = f(z) through its activation
function f. Computing from the inputs towards the output, left to right, is forward
propagation; with f = sigmoid the neuron is a logistic-regression unit.

What the script shows: z and f(z) worked out with plain scalar arithmetic for every
sample and several activations, next to the Z and A that fastmlp caches during its
forward pass (float64, the notes' row form Z = X.W + b). It prints one sample's numbers
and the largest absolute difference over all samples and activations: rounding only.
"""
import argparse
import math
from pathlib import Path

import numpy as np

import fastmlp as fm

ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "tanh": math.tanh,
    "relu": lambda z: max(z, 0.0),
    "identity": lambda z: z,
    "step": lambda z: 1.0 if z > 0 else 0.0,    # Rosenblatt's perceptron
}


def neuron_by_hand(x, w, b, f):
    """One sample x (d,), weights w (d,), bias b: returns (z, f(z)) as Python floats."""
    z = sum(w_i * x_i for w_i, x_i in zip(w, x)) + b
    return z, f(z)


def main(plot_dir=None):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 3))                  # m = 8 samples, d = 3 features
    w, b = [0.8, -1.5, 0.3], 0.25
    largest = {}
    for name, f in ACTIVATIONS.items():
        model = fm.Sequential([fm.Dense(1, activation=name)], input_dim=3, dtype="float64")
        model.layers[0].W = np.array(w).reshape(3, 1)   # W is n_in x n_out
        model.layers[0].b = np.array([b])
        cache = model.forward(X)[0]                     # LayerCache(Z (8, 1), A (8, 1))
        by_hand = np.array([neuron_by_hand(x, w, b, f) for x in X.tolist()])
        largest[name] = float(np.max(np.abs(np.column_stack([cache.Z, cache.A]) - by_hand)))
        if name == "sigmoid":
            z0, o0 = by_hand[0]
            print(f"sample 0: x = {np.round(X[0], 4)}, w = {w}, b = {b}")
            print(f"  by hand: z = {z0:.12f}, sigmoid(z) = {o0:.12f}")
            print(f"  fastmlp: z = {cache.Z[0, 0]:.12f}, sigmoid(z) = {cache.A[0, 0]:.12f}")
    for name, difference in largest.items():
        print(f"{name:>8}: largest |by hand - fastmlp| over Z and A = {difference:.2e}")
    result = {"max_abs_difference": max(largest.values()), "per_activation": largest}
    print(f"max_abs_difference = {result['max_abs_difference']:.2e}")
    if plot_dir is not None:
        save_figures(plot_dir)
    return result


def save_figures(plot_dir):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        fm.plot.plot_activations(["sigmoid", "tanh", "relu", "identity", "step"],
                                 path=f"{plot_dir}/01_activations.png")
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figure saved to {plot_dir}/01_activations.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
