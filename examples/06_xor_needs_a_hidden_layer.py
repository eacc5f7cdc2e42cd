"""06 - XOR needs a hidden layer (and a non-linear activation in it).

The idea: a single neuron, whatever its activation or loss, splits the plane with one
straight line, so it cannot learn XOR, whose classes sit on opposite corners of a
square: at most 3 of the 4 points can be right. Put a hidden layer of neurons between
the input and the output and the network composes functions: the hidden layer builds
new features, A1 = f(X.W1 + b1), and the output neuron separates those. The hidden
activation must be non-linear; a stack of linear layers is still one linear function.

What the script shows: on the four points of the XOR truth table, the perceptron, the
logistic-regression unit and the linear SVM stay at or below 0.75 accuracy, so does a
network whose hidden layer is linear (identity), while one hidden layer of 4 tanh
neurons reaches 1.0. It prints each model's accuracy and the MLP's probabilities.
"""
import argparse
from pathlib import Path

import numpy as np

import fastmlp as fm

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([0, 1, 1, 0])                     # x1 XOR x2


def train(layers, loss, optimizer, batch_size=4):
    model = fm.Sequential(layers, dtype="float64", seed=0)
    model.compile(loss=loss, optimizer=optimizer)
    model.fit(X, y, epochs=500, batch_size=batch_size, verbose=0)
    return model


def main(plot_dir=None):
    models = {
        "perceptron": train([fm.Dense(1, activation="step")], "perceptron", fm.SGD(lr=1.0), batch_size=1),
        "logistic unit": train([fm.Dense(1, activation="sigmoid")], "binary_cross_entropy", fm.Adam(lr=0.05)),
        "linear SVM": train([fm.Dense(1)], "hinge", fm.SGD(lr=0.05, weight_decay=1e-3)),
        "hidden layer, identity": train([fm.Dense(4, activation="identity"), fm.Dense(1, activation="sigmoid")],
                                        "binary_cross_entropy", fm.Adam(lr=0.05)),
        "hidden layer, tanh": train([fm.Dense(4, activation="tanh"), fm.Dense(1, activation="sigmoid")],
                                    "binary_cross_entropy", fm.Adam(lr=0.05)),
    }
    accuracy = {name: model.evaluate(X, y)["accuracy"] for name, model in models.items()}
    for name, value in accuracy.items():
        print(f"{name:>22}: accuracy {value:.2f}")
    mlp = models["hidden layer, tanh"]
    probabilities = mlp.predict(X)[:, 0]
    for x, label, p in zip(X, y, probabilities):
        print(f"  x = {x.astype(int)}  XOR = {label}  MLP p(1) = {p:.3f}")
    if plot_dir is not None:
        save_figures(plot_dir, models)
    return {"train_accuracy": accuracy, "mlp_probabilities": probabilities.tolist()}


def save_figures(plot_dir, models):
    clouds_X, clouds_y = fm.datasets.make_xor(200, noise=0.1, random_state=0)
    shifted = (clouds_X + 1.0) / 2.0        # the quadrants of make_xor mapped onto the unit square
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        for tag, name in (("logistic", "logistic unit"), ("mlp", "hidden layer, tanh")):
            fm.plot.plot_decision_boundary(models[name], shifted, clouds_y, path=f"{plot_dir}/06_xor_{tag}.png",
                                           title=f"{name}, trained on the 4 corners")
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figures saved to {plot_dir}/06_xor_*.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
