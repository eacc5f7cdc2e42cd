"""11 - Overfitting: more hidden layers fit the training data better, not new data.

The idea: we can stack as many hidden layers as we like, and each one lets the network
draw a more complex boundary; but the greater their number, the higher the risk of
overfitting: with few, noisy training samples, a big network learns their noise, and
its loss on data it has not seen (the validation set) goes up while its training loss
keeps going down.

What the script shows: 80 noisy two-moons training samples, 500 validation samples,
networks of 0 to 3 hidden layers of 64 ReLU units trained identically (Adam, 200
epochs). It prints, per depth, the final training and validation log loss, their gap,
and the epoch where the validation loss was lowest. The training loss falls with every
added layer; the validation loss improves with the first hidden layer, then rises, and
the gap grows; the deeper the network, the earlier its validation loss turns upwards.
"""
import argparse
from pathlib import Path

import numpy as np

import fastmlp as fm

DEPTHS = (0, 1, 2, 3)


def main(plot_dir=None):
    X, y = fm.datasets.make_moons(580, noise=0.35, random_state=0)
    X_train, y_train, X_val, y_val = X[:80], y[:80], X[80:], y[80:]
    train_loss, val_loss, gap, best_epoch, histories, stoppers = {}, {}, {}, {}, {}, {}
    for depth in DEPTHS:
        hidden = [fm.Dense(64, activation="relu") for _ in range(depth)]
        model = fm.Sequential(hidden + [fm.Dense(1, activation="sigmoid")], dtype="float64", seed=0)
        model.compile(loss="binary_cross_entropy", optimizer=fm.Adam(lr=0.01))
        # Patience as long as training: it never stops early, but it keeps (and restores) the
        # weights of the epoch with the lowest validation loss, which the figure marks.
        stoppers[depth] = fm.EarlyStopping(patience=200)
        history = model.fit(X_train, y_train, epochs=200, batch_size=16, validation_data=(X_val, y_val),
                            callbacks=[stoppers[depth]], verbose=0)
        histories[depth] = history
        train_loss[depth] = history.history["loss"][-1]
        val_loss[depth] = history.history["val_loss"][-1]
        gap[depth] = val_loss[depth] - train_loss[depth]
        best_epoch[depth] = int(np.argmin(history.history["val_loss"])) + 1
    print("hidden layers  train loss  validation loss    gap  epoch of lowest validation loss")
    for depth in DEPTHS:
        print(f"{depth:13d}  {train_loss[depth]:10.3f}  {val_loss[depth]:15.3f}  {gap[depth]:5.3f}  "
              f"{best_epoch[depth]}")
    if plot_dir is not None:
        save_figures(plot_dir, histories, stoppers)
    return {"train_loss": train_loss, "val_loss": val_loss, "gap": gap, "best_val_epoch": best_epoch}


def save_figures(plot_dir, histories, stoppers):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    runs = {f"{depth} hidden": history for depth, history in histories.items()}
    kept = {f"{depth} hidden": stopper for depth, stopper in stoppers.items()}
    try:
        fm.plot.plot_history(runs, path=f"{plot_dir}/11_overfitting.png", metrics=["loss"], kept_epoch=kept,
                             figsize=(8.5, 4.8),
                             yscale="log", title="train (solid) against validation (dashed) as layers are added")
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figure saved to {plot_dir}/11_overfitting.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
