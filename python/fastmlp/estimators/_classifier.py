"""Classifiers on the engine: labels of any type mapped to output units, class weights, decisions."""
from __future__ import annotations

import math

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ._base import NetworkEstimator
from ._checks import is_real


_LABEL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


class ClassifierNetwork(ClassifierMixin, NetworkEstimator):
    """Labels of any type (strings, integers) mapped to output units.

    Two classes: one output unit for classes_[1]. More: one unit per class (softmax, or
    one-vs-rest for hinge and step outputs). Multi-label indicator targets (MLPClassifier
    only): one sigmoid unit per label.
    """

    _is_classifier_network = True
    _supports_multilabel = False
    _allows_one_class = False  # scikit-learn's MLPClassifier fits y of one class; its linear models refuse it
    _threshold = 0.5  # an output above it says "this class" (0 for identity outputs)
    _STATE = NetworkEstimator._STATE + ("_multilabel",)

    def _prepare_targets(self, y, first_pass, incremental, classes):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        target_type = type_of_target(y)
        multilabel = target_type == "multilabel-indicator"
        if multilabel and not self._supports_multilabel:
            raise ValueError(f"{type(self).__name__} takes one label per sample (a 1-D y); got a multi-label "
                             "indicator matrix. Use fm.MLPClassifier for multi-label problems")
        if y.ndim == 2 and not multilabel:
            raise ValueError(f"y must be 1-D (one label per sample); got shape {y.shape}")
        if first_pass and incremental and classes is None and not multilabel:
            raise ValueError("classes must be passed on the first call to partial_fit "
                             "(all the labels the data will ever have, e.g. np.unique(y_all))")
        if first_pass:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
            else:
                self.classes_ = unique_labels(y) if classes is None else unique_labels(np.asarray(classes))
                if self.classes_.shape[0] < 2 and not self._allows_one_class:
                    raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes, but y holds "
                                     f"only one class ({self.classes_[0]!r})")
        elif incremental and classes is not None and not multilabel and not np.array_equal(
                unique_labels(np.asarray(classes)), self.classes_):
            # scikit-learn's rule: every call may repeat `classes` (dask-ml's Incremental does), and
            # they must be those of the first call
            raise ValueError(f"classes={list(np.asarray(classes).tolist())!r} is not the same as on the first call "
                             f"to partial_fit, which gave classes_ {self.classes_.tolist()!r}")
        elif multilabel != self._multilabel or (multilabel and y.shape[1] != self.classes_.shape[0]):
            raise ValueError("y is not of the kind this estimator was fitted on "
                             f"({'multi-label' if self._multilabel else 'one label per sample'} "
                             f"with {self.classes_.shape[0]} classes)")
        elif not incremental and not multilabel:
            present = unique_labels(y)
            if set(present.tolist()) != set(self.classes_.tolist()):
                raise ValueError("warm_start can only be used where `y` has the same classes as in the previous "
                                 f"call to fit. Previously got {self.classes_}, `y` has {present}")
        if multilabel:
            return y.astype(np.float64), None
        codes = self._codes(y)
        return self._one_hot(codes), codes

    def _codes(self, labels) -> np.ndarray:
        """Positions of labels in classes_; ValueError naming labels the model does not know."""
        labels = np.asarray(labels)
        try:
            positions = np.searchsorted(self.classes_, labels)
        except TypeError as error:
            raise ValueError(f"labels of type {labels.dtype} cannot be compared with classes_ "
                             f"{self.classes_!r}") from error
        positions = np.clip(positions, 0, self.classes_.shape[0] - 1)
        unknown = self.classes_[positions] != labels
        if np.any(unknown):
            raise ValueError(f"y has labels not in classes_ {self.classes_.tolist()}: "
                             f"{np.unique(labels[unknown]).tolist()[:5]}")
        return positions

    def _one_hot(self, codes: np.ndarray) -> np.ndarray:
        n_classes = self.classes_.shape[0]
        if n_classes <= 2:  # one output unit; for one class its target is always 0, as in scikit-learn
            return codes.reshape(-1, 1).astype(np.float64)
        encoded = np.zeros((codes.shape[0], n_classes))
        encoded[np.arange(codes.shape[0]), codes] = 1.0
        return encoded

    @property
    def _n_outputs_for_classes(self) -> int:
        return self.classes_.shape[0] if (self._multilabel or self.classes_.shape[0] > 2) else 1

    def _validation_targets(self, y_val) -> np.ndarray:
        if self._multilabel:
            if y_val.ndim != 2 or y_val.shape[1] != self.classes_.shape[0]:
                raise ValueError(f"y_val must be a ({y_val.shape[0]}, {self.classes_.shape[0]}) indicator matrix")
            return y_val.astype(np.float64)
        return self._one_hot(self._codes(column_or_1d(y_val)))

    def _class_weight_vector(self, class_weight, codes, sample_weight=None) -> np.ndarray:
        """One weight per class of classes_ from class_weight (None, 'balanced' or a dict)."""
        n_classes = self.classes_.shape[0]
        if class_weight is None:
            return np.ones(n_classes)
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f"class_weight must be None, 'balanced' or a dict {{label: weight}}; "
                                 f"got {class_weight!r}")
            # scikit-learn's definition: n_samples / (n_classes · count of the class), where
            # with sample weights the counts are sums of weights
            counts = np.bincount(codes, weights=sample_weight, minlength=n_classes).astype(np.float64)
            present = counts > 0
            vector = np.ones(n_classes)
            vector[present] = counts.sum() / (present.sum() * counts[present])
            return vector
        if not isinstance(class_weight, dict):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict {{label: weight}}; got {class_weight!r}")
        vector = np.ones(n_classes)
        known = {label: index for index, label in enumerate(self.classes_.tolist())}
        for label, weight in class_weight.items():
            label = label.item() if isinstance(label, np.generic) else label
            if label not in known:
                raise ValueError(f"class_weight names the label {label!r}, which is not among the classes "
                                 f"{self.classes_.tolist()}")
            if not is_real(weight) or not math.isfinite(weight) or weight < 0:
                raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0, got {weight!r}")
            vector[known[label]] = float(weight)
        return vector

    def _apply_class_weight(self, raw_weights, strata, settings, incremental):
        class_weight = settings["class_weight"]
        if class_weight is None:
            return raw_weights
        if self._multilabel:
            raise ValueError("class_weight is not supported for multi-label targets; use sample_weight")
        if incremental and class_weight == "balanced":
            raise ValueError("class_weight='balanced' is not supported by partial_fit: one chunk's class balance is "
                             "not the data's. Compute the weights on all the data "
                             "(sklearn.utils.class_weight.compute_class_weight) and pass them as a dict")
        per_sample = self._class_weight_vector(class_weight, strata, raw_weights)[strata]
        return per_sample if raw_weights is None else raw_weights * per_sample

    def _check_weighted_classes(self, raw_weights, strata) -> None:
        if raw_weights is None or strata is None:
            return
        weighted = np.unique(strata[raw_weights > 0])
        if weighted.shape[0] < 2 and self.classes_.shape[0] >= 2 and np.unique(strata).shape[0] >= 2:
            raise ValueError(f"only one class ({self.classes_[weighted[0]]!r}) has a positive sample weight; "
                             "a classifier needs samples of at least 2 classes")

    def _restore_targets(self, description: dict, state: dict, n_outputs: int) -> None:
        classes = description.get("classes")
        fewest = 1 if self._allows_one_class else 2
        if not isinstance(classes, list) or len(classes) < fewest:
            raise ValueError(f"a classifier's description needs 'classes', a list of at least {fewest} labels")
        if not all(isinstance(label, (str, int, float, bool)) for label in classes):
            raise ValueError("class labels must be strings or numbers")
        self.classes_ = self._typed_classes(classes, description.get("classes_dtype"))
        if len(set(classes)) != len(classes):
            raise ValueError("the class labels are not distinct")
        self._multilabel = self._restored_value("_multilabel", state.get("_multilabel", False))
        if self._multilabel and not self._supports_multilabel:
            raise ValueError(f"{type(self).__name__} does not do multi-label classification")
        expected = len(classes) if (len(classes) > 2 or self._multilabel) else 1
        if n_outputs != expected:
            raise ValueError(f"{len(classes)} classes need {expected} output units; the network has {n_outputs}")

    def _fmlp_payload(self) -> tuple:
        description, tensors = super()._fmlp_payload()
        if self.classes_.dtype.kind in "biu":  # JSON numbers forget the width and sign: uint64 must come back
            description["classes_dtype"] = self.classes_.dtype.name
        return description, tensors

    @staticmethod
    def _typed_classes(classes: list, dtype_name) -> np.ndarray:
        """classes_ as saved: integer and boolean labels in their own dtype (uint64 stays uint64)."""
        if dtype_name is None:
            return np.asarray(classes)
        if not isinstance(dtype_name, str) or dtype_name not in _LABEL_DTYPES:
            raise ValueError(f"classes_dtype must be one of {', '.join(_LABEL_DTYPES)}")
        if not all(isinstance(label, (int, bool)) for label in classes):
            raise ValueError(f"classes of dtype {dtype_name} must be integers")
        try:
            typed = np.asarray(classes, dtype=dtype_name)
        except OverflowError as error:
            raise ValueError(f"a class label does not fit in {dtype_name}") from error
        if typed.tolist() != list(classes):
            raise ValueError(f"a class label does not fit in {dtype_name}")
        return typed

    def _restored_value(self, name, value):
        if name == "_multilabel":
            if not isinstance(value, bool):
                raise ValueError("_multilabel must be true or false")
            return value
        return NetworkEstimator._restored_value(name, value)

    # ------------------------------------------------------------------ predictions
    def _decide(self, outputs: np.ndarray) -> np.ndarray:
        """Class positions (m,) from output-layer values (m, n_outputs); an indicator for multi-label."""
        if self._multilabel:
            return (outputs > self._threshold).astype(int)
        if self.classes_.shape[0] == 1:
            return np.zeros(outputs.shape[0], dtype=int)
        if outputs.shape[1] == 1:
            return (outputs[:, 0] > self._threshold).astype(int)
        return outputs.argmax(axis=1)

    def _labels(self, outputs: np.ndarray) -> np.ndarray:
        decided = self._decide(outputs)
        return decided if self._multilabel else self.classes_[decided]

    def _validation_score(self, X_val, Y_val, raw_weights, accuracy) -> float:
        if raw_weights is None and not self._multilabel:
            return accuracy  # the engine counted with the same rule as _decide
        outputs = self._engine.predict(X_val)
        correct = self._decide(outputs) == self._decide(Y_val)  # 0/1 targets sit on either side of 0 and 0.5
        if correct.ndim == 2:
            correct = correct.all(axis=1)
        return float(np.average(correct, weights=raw_weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = self._supports_multilabel
        tags.target_tags.multi_output = self._supports_multilabel
        return tags
