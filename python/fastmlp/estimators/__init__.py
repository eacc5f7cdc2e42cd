"""scikit-learn estimators trained by fastmlp's engine.

    fm.Perceptron          step output, Rosenblatt's rule, one-vs-rest
    fm.LogisticRegression  sigmoid unit (two classes) or softmax regression, log loss
    fm.LinearSVM           identity output, hinge loss + L2, one-vs-rest
    fm.MLPClassifier       scikit-learn's parameter names and fitted attributes
    fm.MLPRegressor

They follow scikit-learn's conventions (fit/predict/score, get_params/set_params, clone,
Pipeline, GridSearchCV) and build on its base classes, so they need the ``sklearn`` extra;
importing this module without scikit-learn raises ImportError saying how to install it.
Every estimator saves to a ``.fmlp`` file (``est.save(path)``, ``fm.load(path)``) and
pickles through the same bytes.
"""
from .. import serialization as _serialization
from . import _checks  # noqa: F401  (first: without scikit-learn it raises the ImportError naming the extra)
from .linear import LinearSVM, LogisticRegression
from .mlp import MLPClassifier, MLPRegressor
from .perceptron import Perceptron

__all__ = ["LinearSVM", "LogisticRegression", "MLPClassifier", "MLPRegressor", "Perceptron"]

# Each estimator class is a model kind of its own in .fmlp files (the description's "kind").
for _estimator_class in (Perceptron, LogisticRegression, LinearSVM, MLPClassifier, MLPRegressor):
    _serialization.register_kind(_estimator_class.__name__, _estimator_class._from_payload)
