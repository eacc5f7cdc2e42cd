"""07 - Backpropagation by hand: the chain rule, checked against model.gradients.

The idea: to update a weight we need the derivative of the loss with respect to it.
Backpropagation gets every such derivative in one sweep from right to left, by the
chain rule: for the 2-4-3 network of the notes (ReLU hidden layer, softmax output,
cross-entropy), averaged over the m samples of the batch,
    dZ2 = (P - Y)/m       dW2 = A1^T.dZ2     db2 = column sums of dZ2
    dA1 = dZ2.W2^T        dZ1 = dA1 * relu'(Z1)   (relu' is 1 where Z1 > 0, else 0)
    dW1 = X^T.dZ1         db1 = column sums of dZ1
A weight of the first layer reaches the loss along several paths, one through each
output neuron; its derivative is the sum of the products along those paths.

What the script shows: these formulas in NumPy, and the single derivative dL/dw1_11
written as an explicit sum over paths, agree with fastmlp's backward pass (float64)
to rounding error, and fm.gradient_check confirms them against central differences
of the loss.
"""
import argparse

import numpy as np

import fastmlp as fm


def main(plot_dir=None):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 2))                                  # m = 5 samples, d = 2
    y = np.array([0, 2, 1, 1, 0])
    Y = np.eye(3)[y]                                             # one-hot, (5, 3)
    model = fm.Sequential([fm.Dense(4, activation="relu"), fm.Dense(3, activation="softmax")],
                          input_dim=2, dtype="float64", seed=3)
    model.compile(loss="cross_entropy")
    W1, b1, W2, b2 = model.layers[0].W, model.layers[0].b, model.layers[1].W, model.layers[1].b
    m = X.shape[0]

    Z1 = X @ W1 + b1                                             # forward, caching Z and A
    A1 = np.maximum(Z1, 0.0)
    Z2 = A1 @ W2 + b2
    P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    dZ2 = (P - Y) / m                                            # backward, right to left
    dW2, db2 = A1.T @ dZ2, dZ2.sum(axis=0)
    dA1 = dZ2 @ W2.T
    dZ1 = dA1 * (Z1 > 0)
    dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)

    grads = model.gradients(X, y)
    by_hand = [(dW1, db1), (dW2, db2)]
    differences = [float(np.max(np.abs(mine - theirs))) for (dW, db), g in zip(by_hand, grads)
                   for mine, theirs in ((dW, g.dW), (db, g.db))]
    for name, value in zip(("dW1", "db1", "dW2", "db2"), differences):
        print(f"{name}: largest |by hand - model.gradients| = {value:.1e}")

    # dL/dw1_11 path by path: L <- p_k <- z2_k <- a1_1 <- z1_1 <- w1_11, summed over k and samples.
    path_sum = sum((P[i, k] - Y[i, k]) / m * W2[0, k] * float(Z1[i, 0] > 0) * X[i, 0]
                   for i in range(m) for k in range(3))
    print(f"dL/dw1_11: sum over paths {path_sum:.15f}, model.gradients {grads[0].dW[0, 0]:.15f}")
    check = fm.gradient_check(model, X, y)          # every parameter against central differences
    print(f"fm.gradient_check over all {check.n_checked} parameters: largest |backprop - finite difference| "
          f"{check.max_difference:.1e}, relative error {check.max_relative_error:.1e}")
    if plot_dir is not None:
        print("(this example has no figure)")
    return {"max_abs_difference": max(differences), "path_sum_w11": path_sum,
            "fastmlp_w11": float(grads[0].dW[0, 0]), "gradient_check_error": check.max_relative_error,
            "gradient_check_difference": check.max_difference}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="save a figure into DIR (needs matplotlib)")
    main(plot_dir=parser.parse_args().plot)
