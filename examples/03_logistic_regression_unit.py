"""03 - The logistic-regression unit: one neuron with a sigmoid.

The idea: put the sigmoid in the neuron as its activation and its output
o = sigmoid(w.x + b) is a number between 0 and 1, read as the probability that the
sample belongs to class 1. That single neuron is logistic regression (a
logistic-regression unit, LRU). It is trained by gradient descent on the log loss
(binary cross-entropy): initialise W and b, forward-propagate, compute the loss,
update every parameter against its gradient, repeat until the loss settles.

What the script shows: on two classes that a straight line separates, the log loss
falls epoch after epoch and the unit classifies every training sample correctly; the
probability crosses 0.5 exactly where z = w.x + b crosses 0, so the decision boundary
is a straight line. It prints the loss curve, the accuracy and a few probabilities.
"""
import argparse
from pathlib import Path

import numpy as np

import fastmlp as fm


def separable_data(n_samples=200, margin=0.1, seed=0):
    """Points in [-1, 1]^2 labelled by the line x1 + 2*x2 = 0.8, none closer than `margin`."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(4 * n_samples, 2))
    distance = (X @ np.array([1.0, 2.0]) - 0.8) / np.sqrt(5.0)
    keep = np.flatnonzero(np.abs(distance) > margin)[:n_samples]
    return X[keep], (distance[keep] > 0).astype(np.int64)


def main(plot_dir=None):
    X, y = separable_data()
    model = fm.Sequential([fm.Dense(1, activation="sigmoid")], dtype="float64", seed=0)
    model.compile(loss="binary_cross_entropy", optimizer=fm.SGD(lr=0.5))
    history = model.fit(X, y, epochs=60, batch_size=16, verbose=0)
    losses = history.history["loss"]
    print("log loss, epochs 1, 2, 5, 10, 20, 60:",
          ", ".join(f"{losses[i - 1]:.4f}" for i in (1, 2, 5, 10, 20, 60)))
    train_accuracy = model.evaluate(X, y)["accuracy"]
    print(f"training accuracy: {train_accuracy:.3f}")

    cache = model.forward(X)[0]
    z, p = cache.Z[:, 0], cache.A[:, 0]
    boundary_is_z_zero = bool(np.array_equal(p > 0.5, z > 0))
    print(f"p > 0.5 exactly where z > 0: {boundary_is_z_zero}")
    for i in range(3):
        print(f"  x = {np.round(X[i], 3)}  z = {z[i]:+.3f}  p(class 1) = {p[i]:.4f}  label = {y[i]}")
    w, b = model.layers[0].W[:, 0], model.layers[0].b[0]
    print(f"decision boundary: {w[0]:.3f}*x1 + {w[1]:.3f}*x2 {b:+.3f} = 0")
    if plot_dir is not None:
        save_figures(plot_dir, model, X, y)
    return {"train_accuracy": train_accuracy, "loss_per_epoch": losses,
            "boundary_is_z_zero": boundary_is_z_zero}


def save_figures(plot_dir, model, X, y):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        fm.plot.plot_decision_boundary(model, X, y, path=f"{plot_dir}/03_logistic_regression_unit.png",
                                       title="logistic-regression unit: p(class 1), 0.5 on the line",
                                       show="probability", figsize=(6.2, 5.4))
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figure saved to {plot_dir}/03_logistic_regression_unit.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
