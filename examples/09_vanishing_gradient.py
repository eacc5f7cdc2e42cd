"""09 - The vanishing gradient: a deep sigmoid network against a deep ReLU network.

The idea: backpropagation reaches the first layer's weights through a product with one
factor f'(z) per layer on the way. The sigmoid's slope is at most 0.25 and close to 0
for most z, so in a deep sigmoid network this product, and with it the gradient of the
early layers, shrinks layer after layer: those layers hardly learn. This stalled deep
networks for years; ReLU, whose slope is exactly 1 wherever z > 0, largely cured it.

What the script shows: two networks of 10 hidden layers (32 units each) on the
two-moons data, identical but for the hidden activation, at initialisation: the norm of
dW for every layer, and the ratio first-layer / last-layer. With sigmoid the first
layer's gradient is about a million times smaller than the last one's; with ReLU the
two are of the same order. Then 30 epochs of the same SGD: the sigmoid network's loss
stays at ln 2 = 0.693 (guessing), the ReLU network's falls. tanh and leaky ReLU are
listed too; tanh, with slope 1 at z = 0 and Glorot's initial weights, does not vanish
at initialisation here: it suffers once its units saturate.
"""
import argparse
from pathlib import Path

import numpy as np

import fastmlp as fm

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def deep_network(activation, depth=10, width=32):
    layers = [fm.Dense(width, activation=activation) for _ in range(depth)]
    model = fm.Sequential(layers + [fm.Dense(1, activation="sigmoid")], input_dim=2, dtype="float64", seed=0)
    return model.compile(loss="binary_cross_entropy", optimizer=fm.SGD(lr=0.05))


def main(plot_dir=None):
    X, y = fm.datasets.make_moons(256, noise=0.15, random_state=0)
    norms, ratio, loss_after_training, histories = {}, {}, {}, {}
    for activation in ACTIVATIONS:
        model = deep_network(activation)
        norms[activation] = [float(np.linalg.norm(g.dW)) for g in model.gradients(X, y)]
        ratio[activation] = norms[activation][0] / norms[activation][-1]
        if activation == "sigmoid":
            vanishing = [f.message for f in model.diagnose(X, y).findings if f.kind == "vanishing"]
        # diagnostics=True records every layer's ||dW|| after each epoch (for the figure)
        histories[activation] = model.fit(X, y, epochs=30, batch_size=32, verbose=0, diagnostics=True)
        loss_after_training[activation] = histories[activation].history["loss"][-1]
    print("||dW|| per layer at initialisation, model.layers[0] (first hidden) to [10] (output):")
    for activation in ACTIVATIONS:
        print(f"{activation:>10}: " + " ".join(f"{value:.0e}" for value in norms[activation]))
    print(f"{'activation':>10}  first/last ||dW||  loss after 30 epochs")
    for activation in ACTIVATIONS:
        print(f"{activation:>10}  {ratio[activation]:16.1e}  {loss_after_training[activation]:.3f}")
    print(f"sigmoid's ratio is {ratio['relu'] / ratio['sigmoid']:.0e} times smaller than ReLU's")
    print("model.diagnose on the sigmoid network:", *vanishing)
    if plot_dir is not None:
        save_figures(plot_dir, histories, X, y)
    return {"grad_norm_per_layer": norms, "first_to_last_ratio": ratio,
            "loss_after_30_epochs": loss_after_training, "diagnose_found_vanishing": bool(vanishing)}


def save_figures(plot_dir, histories, X, y):
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    dead = deep_network("relu")
    dead.layers[4].b = np.full(dead.layers[4].units, -100.0)   # z < 0 for every sample: layer 4 dies
    try:
        for activation in ("sigmoid", "relu"):
            fm.plot.plot_gradient_flow(histories[activation], path=f"{plot_dir}/09_gradient_flow_{activation}.png",
                                       title=f"||dW|| per layer while training, {activation}")
        fm.plot.plot_gradient_flow(dead, X, y, path=f"{plot_dir}/09_gradient_flow_dead_relu.png",
                                   title="layer 4 died (biases -100): no gradient reaches any layer",
                                   figsize=(9.0, 4.0))
    except ImportError as error:  # matplotlib is optional
        print(f"no figure: {error}")
        return
    print(f"figures saved to {plot_dir}/09_gradient_flow_sigmoid.png, _relu.png and _dead_relu.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
