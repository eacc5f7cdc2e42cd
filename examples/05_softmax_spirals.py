"""05 - Several classes: a softmax output layer, on three interleaved spirals.

The idea: for k classes, give the output layer k neurons, one per class, and turn
their net inputs z_1..z_k into probabilities with the softmax p_j = e^z_j / sum_i e^z_i.
Unlike k independent sigmoids, which could each say "yes" (p > 0.5) to several classes
at once, softmax probabilities always sum to 1, and the predicted class is the most
probable one. The loss is categorical cross-entropy, -sum_j y_j log p_j with one-hot
y: log loss extended to k classes. The weights form a d x k matrix W, the biases 1 x k.

What the script shows: softmax regression (one layer, W of shape 2 x 3) draws only
straight boundaries and stays near chance on spirals; with a hidden layer before the
softmax the network follows the arms. Softmax rows sum to 1 to rounding error, while
sigmoid outputs trained on the same task do not. It prints accuracies and row sums.
"""
import argparse
from pathlib import Path

import numpy as np

import fastmlp as fm


def train(layers, loss, X, y):
    model = fm.Sequential(layers, dtype="float64", seed=0)
    model.compile(loss=loss, optimizer=fm.Adam(lr=0.02))
    model.fit(X, y, epochs=300, batch_size=32, verbose=0)
    return model


def main(plot_dir=None):
    X, y = fm.datasets.make_spirals(600, n_classes=3, noise=0.1, random_state=0)
    X_train, X_test, y_train, y_test = fm.datasets.train_test_split(X, y, test_size=0.25, random_state=0,
                                                                    stratify=y)
    models = {
        "softmax regression": train([fm.Dense(3, activation="softmax")], "cross_entropy", X_train, y_train),
        "hidden layer + softmax": train([fm.Dense(32, activation="relu"), fm.Dense(3, activation="softmax")],
                                        "cross_entropy", X_train, y_train),
        # k sigmoids = k independent yes/no questions, each with its own log loss
        "hidden layer + 3 sigmoids": train([fm.Dense(32, activation="relu"), fm.Dense(3, activation="sigmoid")],
                                           "binary_cross_entropy", X_train, y_train),
    }
    test_accuracy, row_sum_error = {}, {}
    print(f"{'model':>26}  test accuracy  max |sum_j p_j - 1|  row sums from .. to")
    for name, model in models.items():
        P = model.predict(X_test)                                       # (150, 3)
        test_accuracy[name] = float(np.mean(P.argmax(axis=1) == y_test))
        row_sum_error[name] = float(np.max(np.abs(P.sum(axis=1) - 1.0)))
        sums = P.sum(axis=1)
        print(f"{name:>26}  {test_accuracy[name]:13.3f}  {row_sum_error[name]:18.1e}  "
              f"{sums.min():.4f} .. {sums.max():.4f}")
    print(f"chance level for 3 balanced classes: {1 / 3:.3f}")
    if plot_dir is not None:
        save_figures(plot_dir, models, X, y)
    return {"test_accuracy": test_accuracy, "row_sum_error": row_sum_error}


def save_figures(plot_dir, models, X, y):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        for tag, name in (("linear", "softmax regression"), ("hidden", "hidden layer + softmax")):
            fm.plot.plot_decision_boundary(models[name], X, y, path=f"{plot_dir}/05_softmax_spirals_{tag}.png",
                                           title=name)
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figures saved to {plot_dir}/05_softmax_spirals_*.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
