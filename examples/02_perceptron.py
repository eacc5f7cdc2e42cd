"""02 - Rosenblatt's perceptron (1957) on linearly separable data.

The idea: the perceptron is the first neural model. It is a single neuron like the
logistic-regression unit, but its activation is a step: it outputs 1 when
w.x + b > 0 and 0 otherwise. It learns by Rosenblatt's rule, one sample at a time:
a correctly classified sample changes nothing, a mistake moves the weights towards
it, w <- w + lr*(y - y_hat)*x (and b likewise). When a straight line separates the
two classes, the rule stops making mistakes after finitely many updates.

What the script shows: starting from zero weights on 200 points that a line separates
with a margin, the number of mistakes made during each epoch falls to zero; a callback
stops training after the first mistake-free epoch. It prints the mistakes per epoch and
the learnt line, and the mistakes of fm.Perceptron, the same rule as an estimator.
"""
import argparse
from pathlib import Path

import numpy as np

import fastmlp as fm


def separable_data(n_samples=200, margin=0.02, seed=0):
    """Points in [-1, 1]^2 labelled by the line x1 + 2*x2 = 0.8, none closer than `margin`."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(4 * n_samples, 2))
    distance = (X @ np.array([1.0, 2.0]) - 0.8) / np.sqrt(5.0)
    keep = np.flatnonzero(np.abs(distance) > margin)[:n_samples]
    return X[keep], (distance[keep] > 0).astype(np.int64)


class StopWhenNoMistakes(fm.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if logs["accuracy"] == 1.0:
            self.model.stop_training = True


def main(plot_dir=None):
    X, y = separable_data()
    model = fm.Sequential([fm.Dense(1, activation="step", initializer="zeros")], dtype="float64", seed=0)
    # batch_size=1, lr=1: Rosenblatt's rule, dZ = -t on a mistake t*z <= 0 (t = 2y - 1, so z = 0 too).
    model.compile(loss="perceptron", optimizer=fm.SGD(lr=1.0))
    history = model.fit(X, y, epochs=100, batch_size=1, callbacks=[StopWhenNoMistakes()], verbose=0)
    # "accuracy" during an epoch is measured on each sample just before its update.
    mistakes = [round((1.0 - accuracy) * len(y)) for accuracy in history.history["accuracy"]]
    w, b = model.layers[0].W[:, 0], model.layers[0].b[0]
    print(f"{len(y)} samples, {int(y.sum())} of class 1")
    print(f"mistakes per epoch: {mistakes}")
    print(f"learnt line: {w[0]:.3f}*x1 + {w[1]:.3f}*x2 {b:+.3f} = 0")
    final_accuracy = model.evaluate(X, y)["accuracy"]
    print(f"accuracy of the final weights on all samples: {final_accuracy:.3f}")
    try:  # the same rule as a scikit-learn-style estimator (needs scikit-learn)
        estimator_mistakes = fm.Perceptron(random_state=0).fit(X, y).mistakes_
        print(f"fm.Perceptron, its own shuffling: mistakes per epoch {estimator_mistakes}")
    except ImportError as error:
        estimator_mistakes = None
        print(f"(fm.Perceptron skipped: {error})")
    if plot_dir is not None:
        save_figures(plot_dir, model, X, y, mistakes)
    return {"mistakes_per_epoch": mistakes, "final_accuracy": final_accuracy, "weights": w.tolist(), "bias": b,
            "estimator_mistakes_per_epoch": estimator_mistakes}


def save_figures(plot_dir, model, X, y, mistakes):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        fm.plot.plot_decision_boundary(model, X, y, path=f"{plot_dir}/02_perceptron.png",
                                       title="perceptron: the line after its first epoch without mistakes")
        fm.plot.plot_history({"mistakes": mistakes}, path=f"{plot_dir}/02_perceptron_mistakes.png",
                             title="Rosenblatt's rule: mistakes per epoch fall to zero", figsize=(5.5, 3.5))
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figures saved to {plot_dir}/02_perceptron.png and 02_perceptron_mistakes.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
