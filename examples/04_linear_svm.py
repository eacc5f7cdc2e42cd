"""04 - A linear SVM is the same neuron trained with hinge loss.

The idea: keep the neuron of the logistic-regression unit, z = w.x + b, but change
what is asked of it. Drop the sigmoid (identity output), read the labels as t = -1 or
+1, and train on the hinge loss max(0, 1 - t*z) plus an L2 penalty on w: that is a
linear SVM. A sample that is classified correctly and lies beyond the margin
(t*z >= 1) has zero loss and zero gradient, so only the samples on or inside the
margin, the support vectors, shape the line.

What the script shows: on separable data, the same single neuron reaches accuracy 1.0
with hinge loss and with log loss. It prints each model's accuracy and the distance
from its line to the nearest sample (the geometric margin), and how many samples still
have a non-zero hinge loss at the end.
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
    t = 2 * y - 1                                  # the SVM's labels, t in {-1, +1}
    setups = {
        # weight_decay lambda adds lambda*W to dW: the L2 term of the SVM objective.
        "hinge (linear SVM)": ("identity", "hinge", fm.SGD(lr=0.1, weight_decay=1e-3)),
        "log loss (logistic unit)": ("sigmoid", "binary_cross_entropy", fm.SGD(lr=0.5)),
    }
    accuracy, margin, models = {}, {}, {}
    for name, (activation, loss, optimizer) in setups.items():
        model = fm.Sequential([fm.Dense(1, activation=activation)], dtype="float64", seed=0)
        model.compile(loss=loss, optimizer=optimizer)
        labels = t if loss == "hinge" else y       # (hinge would read 0/1 labels as t just the same)
        model.fit(X, labels, epochs=100, batch_size=16, verbose=0)
        z = model.forward(X)[0].Z[:, 0]
        w = model.layers[0].W[:, 0]
        accuracy[name] = model.evaluate(X, labels)["accuracy"]
        margin[name] = float(np.min(t * z) / np.linalg.norm(w))
        models[name] = model
        print(f"{name:>25}: accuracy {accuracy[name]:.3f}, nearest sample at distance {margin[name]:.4f}")
        if loss == "hinge":
            inside = int(np.sum(t * z < 1))
            print(f"{'':>25}  samples with t*z < 1 (non-zero hinge loss): {inside} of {len(y)}")
    print("no sample of this data set is closer than 0.1 to the line that generated its labels")
    if plot_dir is not None:
        save_figures(plot_dir, models["hinge (linear SVM)"], X, y)
    return {"train_accuracy": accuracy, "geometric_margin": margin, "samples_inside_margin": inside}


def save_figures(plot_dir, model, X, y):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        fm.plot.plot_decision_boundary(model, X, y, path=f"{plot_dir}/04_linear_svm.png",
                                       title="linear SVM (hinge loss): margins and support vectors", show="margin",
                                       figsize=(8.0, 4.8))
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figure saved to {plot_dir}/04_linear_svm.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
