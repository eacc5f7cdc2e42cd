"""Settings that show one lesson of the lecture each, chosen from the page's preset menu."""

PRESETS = {
    "xor": {
        "title": "XOR needs a hidden layer",
        "lesson": "No straight line separates XOR. Train as is: one hidden layer of 4 tanh units bends the "
                  "boundary and the loss falls. Remove the hidden layer and train again: a single neuron "
                  "stalls near ln 2 = 0.693.",
        "settings": {"dataset": "xor", "n_samples": 200, "noise": 0.1, "layers": [{"units": 4, "activation": "tanh"}],
                     "learning_rate": 0.05, "optimizer": "adam", "batch_size": 16},
    },
    "vanishing_sigmoid": {
        "title": "Vanishing gradient: a deep sigmoid network",
        "lesson": "Six sigmoid layers: f'(z) is at most 0.25, so the gradient shrinks layer after layer. Watch "
                  "the gradient norms: the first layer's sits orders of magnitude below the last one's, and the "
                  "loss hardly moves. Compare with the ReLU preset.",
        "settings": {"dataset": "moons", "n_samples": 300, "noise": 0.15,
                     "layers": [{"units": 16, "activation": "sigmoid"}] * 6, "learning_rate": 0.1,
                     "optimizer": "sgd", "batch_size": 32},
    },
    "vanishing_relu": {
        "title": "The same deep network with ReLU",
        "lesson": "The same six layers with ReLU, whose slope is 1 wherever z > 0: the gradient norms of all "
                  "layers stay of one order, and the loss falls.",
        "settings": {"dataset": "moons", "n_samples": 300, "noise": 0.15,
                     "layers": [{"units": 16, "activation": "relu"}] * 6, "learning_rate": 0.1,
                     "optimizer": "sgd", "batch_size": 32},
    },
    "dead_relu": {
        "title": "Dead ReLUs",
        "lesson": "A learning rate far too large for SGD throws the ReLU units' z below 0 for every sample: "
                  "they output 0, get no gradient and never come back. Watch the gradient norms drop to 0. "
                  "Try leaky_relu, or a learning rate of 0.05.",
        "settings": {"dataset": "circles", "n_samples": 300, "noise": 0.08,
                     "layers": [{"units": 8, "activation": "relu"}] * 3, "learning_rate": 3.0,
                     "optimizer": "sgd", "batch_size": 8},
    },
    "overfitting": {
        "title": "Overfitting as layers grow",
        "lesson": "Few noisy samples and three wide layers: the training loss keeps falling while the "
                  "validation loss turns upwards, and the boundary wraps around single points. Remove layers "
                  "and the gap closes.",
        "settings": {"dataset": "moons", "n_samples": 80, "noise": 0.35, "validation_fraction": 0.5,
                     "layers": [{"units": 32, "activation": "relu"}] * 3, "learning_rate": 0.01,
                     "optimizer": "adam", "batch_size": 8},
    },
}
