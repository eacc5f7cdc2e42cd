"""Writes the model files under tests/python/data/ and the predictions they make.

Run once, with fastmlp as it was before the files-at-the-bottom renovation (commit 398499e):
the files are fixtures of that format, and test_old_files.py checks that today's fm.load
still reads them and predicts what they predicted then. Do not regenerate them with newer
code: that would turn the test into a round trip.

    python tests/python/data/make_old_files.py
"""
import pathlib

import numpy as np

import fastmlp as fm

HERE = pathlib.Path(__file__).parent


def data(seed, n=60, d=3, classes=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [1.0, 10.0, 0.5] + [0.0, 4.0, -1.0]
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 4) if classes == 3 else (X[:, 0] + X[:, 2] > -1).astype(int)
    return X, y


def sequential(dtype):
    X, y = data(1)
    model = fm.Sequential([fm.Dense(5, activation="leaky_relu", negative_slope=0.05),
                           fm.Dense(3, activation="softmax")], dtype=dtype, seed=3, name="old-sequential")
    model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=0.01))
    model.preprocessing = fm.datasets.Standardizer().fit(X)
    model.metadata = {"note": "written by the pre-renovation code"}
    model.fit(X, y, epochs=5, batch_size=16, verbose=0)
    return model, X, model.predict(X)


def estimators(dtype):
    X, y3 = data(2)
    _, y2 = data(2, classes=2)
    yield "Perceptron", fm.Perceptron(max_iter=5, random_state=0).fit(X, y3), X
    yield "LogisticRegression", fm.LogisticRegression(max_iter=30, dtype=dtype).fit(X, y2), X
    yield "LinearSVM", fm.LinearSVM(max_iter=20, dtype=dtype, random_state=0).fit(X, y3), X
    yield "MLPClassifier", fm.MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0,
                                            dtype=dtype).fit(X, y3), X
    yield "MLPRegressor", fm.MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0,
                                          dtype=dtype).fit(X, X[:, 0] * 2.0 - X[:, 2]), X


def main():
    for dtype in ("float32", "float64"):
        model, X, predicted = sequential(dtype)
        model.save(HERE / f"old_Sequential_{dtype}.fmlp")
        np.savez(HERE / f"old_Sequential_{dtype}.npz", X=X, predict=predicted)
        for kind, estimator, X in estimators(dtype):
            if kind == "Perceptron" and dtype == "float64":
                continue  # the Perceptron has no dtype parameter: one file
            name = f"old_{kind}_{dtype}" if kind != "Perceptron" else f"old_{kind}"
            estimator.save(HERE / f"{name}.fmlp")
            outputs = {"X": X, "predict": estimator.predict(X)}
            if hasattr(estimator, "predict_proba") and kind != "LinearSVM":
                outputs["predict_proba"] = estimator.predict_proba(X)
            if hasattr(estimator, "decision_function"):
                outputs["decision_function"] = estimator.decision_function(X)
            np.savez(HERE / f"{name}.npz", **outputs)


if __name__ == "__main__":
    main()
