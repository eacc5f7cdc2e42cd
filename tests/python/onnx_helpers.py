"""Shared by the ONNX tests: running an exported model in onnxruntime and comparing its outputs."""
import numpy as np

# onnxruntime against fastmlp: float32 and float64 reorder their sums differently, nothing more.
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def run(proto, X, threads: int = 1) -> dict:
    """onnxruntime's outputs of `proto` on X, by output name."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: X})))


def assert_close(actual, expected, dtype) -> None:
    """Same shape, and the largest difference within RTOL of the largest magnitude of `expected`
    (the norm-wise relative error: elementwise it is meaningless where values cancel to near 0)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = np.max(np.abs(expected))
    assert scale > 0, "a comparison with all-zero outputs would test nothing"
    error = np.max(np.abs(actual - expected)) / scale
    assert error <= RTOL[np.dtype(dtype)], f"relative error {error:.3g} > {RTOL[np.dtype(dtype)]:g}"


def blobs(n_samples=120, n_features=4, n_classes=3, seed=0, spread=2.0):
    """Gaussian classes around random centres, labels 0..k-1 in turn."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    centres = rng.standard_normal((n_classes, n_features)) * spread
    return centres[y] + rng.standard_normal((n_samples, n_features)), y
