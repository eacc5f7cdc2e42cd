"""08 - Sigmoid, tanh, ReLU and leaky ReLU on the same problem and the same budget.

The idea: the hidden layers need a non-linear activation, and which one matters for
how fast gradient descent learns. The sigmoid squashes z into (0, 1) and its slope is
at most 0.25; tanh, (e^z - e^-z)/(e^z + e^-z), is centred on 0 with slope up to 1;
ReLU, max(z, 0), passes the gradient unchanged wherever z > 0; leaky ReLU,
max(z, alpha*z), also keeps a small slope alpha for z < 0 so that no unit goes
completely silent. Using ReLU and leaky ReLU was one of the breakthroughs of deep
learning.

What the script shows: four copies of one network (2 hidden layers of 16 units) differ
only in their hidden activation and are trained on the same two-moons data with the same
seed, optimiser and number of epochs. It prints each one's final training loss,
accuracy and the first epoch whose loss fell below 0.1: sigmoid lags far behind.
"""
import argparse
from pathlib import Path

import fastmlp as fm

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def main(plot_dir=None):
    X, y = fm.datasets.make_moons(400, noise=0.15, random_state=0)
    final_loss, accuracy, first_below, histories = {}, {}, {}, {}
    for activation in ACTIVATIONS:
        model = fm.Sequential([fm.Dense(16, activation=activation), fm.Dense(16, activation=activation),
                               fm.Dense(1, activation="sigmoid")], dtype="float64", seed=0)
        model.compile(loss="binary_cross_entropy", optimizer=fm.SGD(lr=0.1))
        history = model.fit(X, y, epochs=100, batch_size=32, verbose=0)
        losses = history.history["loss"]
        histories[activation] = history
        final_loss[activation] = losses[-1]
        accuracy[activation] = model.evaluate(X, y)["accuracy"]
        first_below[activation] = next((epoch + 1 for epoch, loss in enumerate(losses) if loss < 0.1), None)
    print(f"{'activation':>10}  final loss  accuracy  first epoch with loss < 0.1")
    for activation in ACTIVATIONS:
        reached = first_below[activation] or "never (in 100)"
        print(f"{activation:>10}  {final_loss[activation]:10.4f}  {accuracy[activation]:8.3f}  {reached}")
    if plot_dir is not None:
        save_figures(plot_dir, histories)
    return {"final_loss": final_loss, "train_accuracy": accuracy, "first_epoch_below_0.1": first_below}


def save_figures(plot_dir, histories):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        fm.plot.plot_history(histories, path=f"{plot_dir}/08_loss_per_activation.png",   # overlaid, one colour each
                             title="same network, same budget: training loss per hidden activation")
        fm.plot.plot_activations(ACTIVATIONS, path=f"{plot_dir}/08_activations.png")  # f and f'
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figures saved to {plot_dir}/08_loss_per_activation.png and 08_activations.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
