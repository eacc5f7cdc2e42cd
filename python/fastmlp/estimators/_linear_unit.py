"""The one-layer classifiers' common part: z = X·W + b, coef_ and intercept_, decisions."""
from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._classifier import ClassifierNetwork


class _LinearClassifier(ClassifierNetwork):
    """One layer: decision_function z = X·W + b, coef_ (n_outputs, n_features), intercept_ (n_outputs,)."""

    _initializer = "zeros"

    def _output_layer(self, n_outputs: int) -> tuple:
        raise NotImplementedError

    @property
    def coef_(self) -> np.ndarray:
        """Weights, shape (1, n_features) for two classes, (n_classes, n_features) otherwise: a view
        of coefs_[0].T, so an in-place edit reaches the model as in scikit-learn."""
        check_is_fitted(self)
        return self.coefs_[0].T

    @coef_.setter
    def coef_(self, value) -> None:
        check_is_fitted(self)
        self.coefs_ = [np.asarray(value).T]

    @property
    def intercept_(self) -> np.ndarray:
        """Biases, shape (1,) for two classes, (n_classes,) otherwise (intercepts_[0] itself)."""
        check_is_fitted(self)
        return self.intercepts_[0]

    @intercept_.setter
    def intercept_(self, value) -> None:
        check_is_fitted(self)
        self.intercepts_ = [value]

    def decision_function(self, X) -> np.ndarray:
        """The score z = X·W + b of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (positive means classes_[1]),
        (n_samples, n_classes) otherwise.
        """
        dtype = self._prediction_dtype(X)
        X = self._features(X)
        network = self._engine
        scores = np.asarray(X.astype(dtype, copy=False) @ network.get_weights(0).astype(dtype))  # sparse X too
        scores += network.get_bias(0).astype(dtype)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """Class labels, shape (n_samples,): the sign of z for two classes, else the largest z."""
        scores = self.decision_function(X)
        codes = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[codes]

    def _hidden_layers(self) -> list:
        return []
