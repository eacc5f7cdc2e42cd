"""10 - Regression: a linear output neuron on top of non-linear hidden layers.

The idea: a neural network does regression when its output layer's activation is
linear (identity), so that it can produce any real number, and it is trained on the
mean squared error. The hidden layers must still be non-linear: without that, the
whole network is one linear function of the inputs and cannot follow a curved target.

What the script shows: a target with a sine and a square in it (fm.datasets.
make_regression, 4 features). One linear neuron (linear regression) explains only a
quarter of the variance of unseen data; so does a network with two hidden layers of
identity units; the same network with ReLU hidden layers explains more than 95%.
It prints R^2 on the training and the test set for each, and, as a check, the
test R^2 of the least-squares line computed in closed form.
"""
import argparse
from pathlib import Path

import numpy as np

import fastmlp as fm


def r2_score(y_true, y_pred):
    """1 - residual sum of squares / total sum of squares; y_true, y_pred of shape (m,)."""
    return float(1.0 - np.sum((y_true - y_pred) ** 2) / np.sum((y_true - y_true.mean()) ** 2))


def main(plot_dir=None):
    X, y = fm.datasets.make_regression(1000, n_features=4, noise=0.1, random_state=0)
    X_train, X_test, y_train, y_test = fm.datasets.train_test_split(X, y, test_size=0.25, random_state=0)
    networks = {
        "linear neuron": [fm.Dense(1, activation="identity")],
        "2 hidden layers, identity": [fm.Dense(32, activation="identity"), fm.Dense(32, activation="identity"),
                                      fm.Dense(1, activation="identity")],
        "2 hidden layers, ReLU": [fm.Dense(32, activation="relu"), fm.Dense(32, activation="relu"),
                                  fm.Dense(1, activation="identity")],
    }
    train_r2, test_r2, histories = {}, {}, {}
    print(f"{'model':>26}  train R^2  test R^2")
    for name, layers in networks.items():
        model = fm.Sequential(layers, dtype="float64", seed=0)
        model.compile(loss="mse", optimizer=fm.Adam(lr=0.01))
        histories[name] = model.fit(X_train, y_train, epochs=100, batch_size=32, verbose=0)
        train_r2[name] = r2_score(y_train, model.predict(X_train)[:, 0])
        test_r2[name] = r2_score(y_test, model.predict(X_test)[:, 0])
        print(f"{name:>26}  {train_r2[name]:9.3f}  {test_r2[name]:8.3f}")
    design = np.column_stack([X_train, np.ones(len(X_train))])       # least squares with an intercept
    coefficients = np.linalg.lstsq(design, y_train, rcond=None)[0]
    least_squares_r2 = r2_score(y_test, X_test @ coefficients[:-1] + coefficients[-1])
    print(f"{'least squares, closed form':>26}  {'':9}  {least_squares_r2:8.3f}")
    if plot_dir is not None:
        save_figures(plot_dir, histories)
    return {"train_r2": train_r2, "test_r2": test_r2, "least_squares_test_r2": least_squares_r2}


def save_figures(plot_dir, histories):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        fm.plot.plot_history(histories, path=f"{plot_dir}/10_regression_loss.png", figsize=(7.5, 3.8), yscale="log",
                             title="regression: training mse per network")
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figure saved to {plot_dir}/10_regression_loss.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
