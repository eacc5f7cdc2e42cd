"""Sequential.metadata: free-form JSON saved in the model file's description and read back."""
import json
import pickle

import numpy as np
import pytest
import safetensors

import fastmlp as fm
from fastmlp import fileformat, serialization


def _small_model():
    model = fm.Sequential([fm.Dense(3, activation="tanh"), fm.Dense(2, activation="softmax")], input_dim=4, seed=1)
    model.compile(loss="cross_entropy", optimizer="adam")
    return model


def test_new_model_has_empty_metadata():
    assert _small_model().metadata == {}


def test_metadata_survives_save_and_load(tmp_path):
    model = _small_model()
    metadata = {"task": "classification", "classes": ["cat", "dog"], "features": ["a", "b", "c", "d"],
                "nested": {"rows": 12, "ratio": 0.25, "flag": True, "missing": None}}
    model.metadata = metadata
    path = tmp_path / "m.fmlp"
    model.save(path)

    loaded = fm.load(path)
    assert loaded.metadata == metadata
    # It lives in the JSON description under "metadata", readable without fastmlp.
    with safetensors.safe_open(str(path), framework="numpy") as handle:
        description = json.loads(handle.metadata()["fastmlp"])
    assert description["metadata"] == metadata


def test_metadata_survives_pickle():
    model = _small_model()
    model.metadata = {"target": "y", "classes": [0, 1]}
    assert pickle.loads(pickle.dumps(model)).metadata == {"target": "y", "classes": [0, 1]}


def test_metadata_that_is_not_json_is_refused_at_save(tmp_path):
    model = _small_model()
    model.metadata = {"weights": np.zeros(2)}
    with pytest.raises(fm.FormatError, match="JSON"):
        model.save(tmp_path / "m.fmlp")
    assert not (tmp_path / "m.fmlp").exists()


def test_file_without_metadata_loads_with_empty_metadata(tmp_path):
    model = _small_model()
    description = serialization.network_description(model)
    del description["metadata"]
    path = tmp_path / "old.fmlp"
    fileformat.save(path, description, serialization.network_tensors(model), with_digest=True)
    assert fm.load(path).metadata == {}


def test_metadata_that_is_not_an_object_is_refused_at_load(tmp_path):
    model = _small_model()
    description = serialization.network_description(model)
    description["metadata"] = ["not", "an", "object"]
    path = tmp_path / "bad.fmlp"
    fileformat.save(path, description, serialization.network_tensors(model), with_digest=True)
    with pytest.raises(fm.FormatError, match="'metadata' must be a JSON object, found list"):
        fm.load(path)
