"""MLPRegressor(loss=...) with scikit-learn's names: "squared_error", "poisson" (half deviance,
log link), and fastmlp's "absolute_error" and "huber"."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.metrics import mean_absolute_error, mean_poisson_deviance  # noqa: E402

import fastmlp as fm  # noqa: E402

# Short fits on purpose: the arithmetic is checked, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def counts(m=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    return X, rng.poisson(np.exp(0.4 * X[:, 0] - 0.3 * X[:, 1] + 0.5)).astype(float)


def test_poisson_loss_is_half_the_mean_poisson_deviance_of_the_predictions():
    X, y = counts()
    reg = fm.MLPRegressor(hidden_layer_sizes=(8,), loss="poisson", solver="lbfgs", alpha=0.0, max_iter=50,
                          random_state=0, dtype="float64").fit(X, y)
    P = reg.predict(X)
    assert np.all(P > 0)                        # the exp output: a mean is never negative
    np.testing.assert_allclose(reg.loss_, mean_poisson_deviance(y, P) / 2, rtol=1e-10)


def test_poisson_fits_counts_better_than_a_constant():
    X, y = counts(400)
    reg = fm.MLPRegressor(hidden_layer_sizes=(16,), loss="poisson", learning_rate_init=0.01, max_iter=60,
                          random_state=0).fit(X, y)
    constant = mean_poisson_deviance(y, np.full_like(y, y.mean()))
    assert mean_poisson_deviance(y, reg.predict(X)) < 0.8 * constant


def test_absolute_error_and_huber_train_and_refuse_unknown_names():
    X, y = counts()
    for loss in ("absolute_error", "huber"):
        reg = fm.MLPRegressor(hidden_layer_sizes=(8,), loss=loss, solver="lbfgs", alpha=0.0, max_iter=30,
                              random_state=0, dtype="float64").fit(X, y)
        if loss == "absolute_error":
            np.testing.assert_allclose(reg.loss_, mean_absolute_error(y, reg.predict(X)), rtol=1e-10)
    with pytest.raises(ValueError, match="loss must be one of 'squared_error', 'poisson'"):
        fm.MLPRegressor(loss="gamma").fit(X, y)


def test_poisson_refuses_negative_targets():
    X, y = counts()
    y[0] = -2.0
    with pytest.raises(ValueError, match="y >= 0"):
        fm.MLPRegressor(loss="poisson", max_iter=2).fit(X, y)
