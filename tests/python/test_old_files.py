"""Model files written before the renovation of issue 9 still load and predict what they did.

The files under data/ were written by tests/python/data/make_old_files.py with the code of
commit 398499e, together with their inputs and outputs (the .npz beside each file)."""
import pathlib

import numpy as np
import pytest

import fastmlp as fm

pytest.importorskip("sklearn")

DATA = pathlib.Path(__file__).parent / "data"
FILES = sorted(DATA.glob("old_*.fmlp"))
# Another engine variant (AVX2 against AVX-512) may sum in another order: a few ulps of the scale.
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def test_the_fixtures_cover_every_kind_and_both_dtypes():
    names = {path.stem for path in FILES}
    assert names == {"old_Perceptron", *(f"old_{kind}_{dtype}" for dtype in ("float32", "float64") for kind in (
        "Sequential", "LogisticRegression", "LinearSVM", "MLPClassifier", "MLPRegressor"))}


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_an_old_file_loads_and_predicts_what_it_predicted(path):
    expected = np.load(path.with_suffix(".npz"))
    kind = path.stem.split("_")[1]
    loaded = fm.load(path)
    assert type(loaded).__name__ == kind
    dtype = path.stem.split("_")[2] if path.stem.count("_") == 2 else "float32"
    for method in ("predict", "predict_proba", "decision_function"):
        if method not in expected.files:
            continue
        found = np.asarray(getattr(loaded, method)(expected["X"]))
        wanted = expected[method]
        assert found.shape == wanted.shape
        if found.dtype.kind in "iub":
            np.testing.assert_array_equal(found, wanted)
        else:
            scale = max(1.0, float(np.max(np.abs(wanted))))
            np.testing.assert_allclose(found, wanted, rtol=0, atol=TOLERANCE[dtype] * scale)
