"""Data for fastmlp: toy generators, CSV files, splitting, scaling, encoding, batching.

Everything here is plain NumPy and follows scikit-learn's argument names, so code
written for ``sklearn.datasets`` / ``sklearn.model_selection`` reads the same.

Generators take ``random_state`` (None, an int seed or a ``np.random.Generator``);
the same seed gives the same arrays. They return ``X`` of shape
``(n_samples, n_features)`` in float64 and ``y`` of shape ``(n_samples,)``:
int64 class labels ``0 .. k-1`` for classification, float64 targets for regression.
"""
from .batching import iterate_minibatches
from .csv_files import CSVData, load_csv, save_csv
from .generators import make_blobs, make_circles, make_moons, make_regression, make_spirals, make_xor
from .preprocessing import Standardizer, one_hot
from .splitting import train_test_split

__all__ = [
    "make_xor",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_blobs",
    "make_regression",
    "CSVData",
    "load_csv",
    "save_csv",
    "train_test_split",
    "Standardizer",
    "one_hot",
    "iterate_minibatches",
]

