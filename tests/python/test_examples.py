"""The examples in examples/ run and show, in numbers, what each one claims.

Every example is imported by path and its main() run once (module-scoped cache); the
tests then check the dict it returns against the idea of the lecture it illustrates, with
independent recomputation where the data allow it.
"""
import ast
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import fastmlp as fm

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(EXAMPLES_DIR.glob("[0-9][0-9]_*.py"))
# Scripts that save figures with --plot, and what they save.
FIGURES = {
    "01_single_neuron_forward": ["01_activations.png"],
    "02_perceptron": ["02_perceptron.png", "02_perceptron_mistakes.png"],
    "03_logistic_regression_unit": ["03_logistic_regression_unit.png"],
    "04_linear_svm": ["04_linear_svm.png"],
    "05_softmax_spirals": ["05_softmax_spirals_linear.png", "05_softmax_spirals_hidden.png"],
    "06_xor_needs_a_hidden_layer": ["06_xor_logistic.png", "06_xor_mlp.png"],
    "08_activation_functions": ["08_loss_per_activation.png", "08_activations.png"],
    "09_vanishing_gradient": ["09_gradient_flow_sigmoid.png", "09_gradient_flow_relu.png",
                              "09_gradient_flow_dead_relu.png"],
    "10_regression": ["10_regression_loss.png"],
    "11_overfitting": ["11_overfitting.png"],
}


def load(stem):
    spec = importlib.util.spec_from_file_location(f"example_{stem}", EXAMPLES_DIR / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # The examples' matrices are tiny: on a 2-core machine shared with other work, two
    # engine threads make them many times slower, never faster. Results do not depend on it.
    previous = fm.get_num_threads()
    fm.set_num_threads(1)
    yield
    fm.set_num_threads(previous)


@pytest.fixture(scope="module")
def figure_dir(tmp_path_factory):
    # A directory that does not exist yet: the scripts must create it.
    return tmp_path_factory.mktemp("examples") / "figures"


@pytest.fixture(scope="module")
def run_example(figure_dir):
    """(module, main()'s result) of an example, run once, with figures when matplotlib is installed."""
    cache = {}
    plot_dir = figure_dir if importlib.util.find_spec("matplotlib") else None

    def run(stem):
        if stem not in cache:
            module = load(stem)
            cache[stem] = (module, module.main(plot_dir=plot_dir))
        return cache[stem]
    return run


# ------------------------------------------------------------------ the scripts themselves

def test_scripts_are_numbered_in_order_short_and_documented():
    assert [int(path.name[:2]) for path in SCRIPTS] == list(range(1, 12))
    for path in SCRIPTS:
        source = path.read_text()
        assert len(source.splitlines()) <= 80, path.name
        tree = ast.parse(source)
        docstring = ast.get_docstring(tree)
        assert docstring and "What the script shows" in docstring, path.name
        mains = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main"]
        assert len(mains) == 1 and [a.arg for a in mains[0].args.args] == ["plot_dir"], path.name
        assert "--plot" in source and 'if __name__ == "__main__":' in source, path.name


@pytest.mark.parametrize("stem", sorted(FIGURES))
def test_plot_option_saves_the_figures(stem, run_example, figure_dir):
    pytest.importorskip("matplotlib")
    run_example(stem)
    for name in FIGURES[stem]:
        path = figure_dir / name
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


# ------------------------------------------------------------------ the claims, in numbers

def test_01_forward_by_hand_equals_model_forward(run_example):
    found = run_example("01_single_neuron_forward")[1]
    assert set(found["per_activation"]) >= {"sigmoid", "tanh", "relu", "identity", "step"}
    assert found["max_abs_difference"] <= 1e-12


def test_02_perceptron_mistakes_reach_zero(run_example):
    module, found = run_example("02_perceptron")
    mistakes = found["mistakes_per_epoch"]
    assert mistakes[0] > 0 and mistakes[-1] == 0
    assert all(m > 0 for m in mistakes[:-1])       # it stops at the first mistake-free epoch
    X, y = module.separable_data()
    predicted = (X @ np.array(found["weights"]) + found["bias"] > 0).astype(int)
    np.testing.assert_array_equal(predicted, y)    # the learnt line separates every sample
    if importlib.util.find_spec("sklearn"):        # fm.Perceptron, the same rule as an estimator
        assert found["estimator_mistakes_per_epoch"][0] > 0 and found["estimator_mistakes_per_epoch"][-1] == 0


def test_03_logistic_unit_separates_separable_data(run_example):
    found = run_example("03_logistic_regression_unit")[1]
    assert found["train_accuracy"] == 1.0
    assert found["boundary_is_z_zero"]
    losses = found["loss_per_epoch"]
    assert losses[-1] < 0.25 * losses[0]


def test_04_hinge_and_log_loss_both_separate(run_example):
    found = run_example("04_linear_svm")[1]
    assert found["train_accuracy"] == {"hinge (linear SVM)": 1.0, "log loss (logistic unit)": 1.0}
    # a positive distance from the line to the nearest sample, signed by its label: separated
    assert all(margin > 0 for margin in found["geometric_margin"].values())
    assert 0 < found["samples_inside_margin"] < 200


def test_05_softmax_rows_sum_to_one_and_hidden_layer_follows_spirals(run_example):
    found = run_example("05_softmax_spirals")[1]
    accuracy, row_sum_error = found["test_accuracy"], found["row_sum_error"]
    assert row_sum_error["softmax regression"] <= 1e-12
    assert row_sum_error["hidden layer + softmax"] <= 1e-12
    assert row_sum_error["hidden layer + 3 sigmoids"] > 1e-2
    assert accuracy["softmax regression"] < 0.6
    assert accuracy["hidden layer + softmax"] >= 0.95


def test_06_xor_needs_a_non_linear_hidden_layer(run_example):
    accuracy = run_example("06_xor_needs_a_hidden_layer")[1]["train_accuracy"]
    for single_layer in ("perceptron", "logistic unit", "linear SVM", "hidden layer, identity"):
        assert accuracy[single_layer] <= 0.75, single_layer
    assert accuracy["hidden layer, tanh"] == 1.0


def test_07_backprop_by_hand_equals_model_gradients(run_example):
    found = run_example("07_backprop_by_hand")[1]
    assert found["max_abs_difference"] <= 1e-10
    assert found["path_sum_w11"] != 0.0
    assert math.isclose(found["path_sum_w11"], found["fastmlp_w11"], rel_tol=0, abs_tol=1e-12)
    assert found["gradient_check_error"] < 1e-6
    assert found["gradient_check_difference"] < 1e-7


def test_08_relu_leaky_relu_and_tanh_beat_sigmoid_at_the_same_budget(run_example):
    found = run_example("08_activation_functions")[1]
    final_loss = found["final_loss"]
    assert set(final_loss) == {"sigmoid", "tanh", "relu", "leaky_relu"}
    assert all(math.isfinite(loss) for loss in final_loss.values())
    for activation in ("tanh", "relu", "leaky_relu"):
        assert final_loss[activation] < 0.5 * final_loss["sigmoid"], activation
        assert found["first_epoch_below_0.1"][activation] is not None
    assert found["first_epoch_below_0.1"]["sigmoid"] is None


def test_09_gradient_vanishes_in_deep_sigmoid_network_not_relu(run_example):
    found = run_example("09_vanishing_gradient")[1]
    norms, ratio = found["grad_norm_per_layer"], found["first_to_last_ratio"]
    assert len(norms["sigmoid"]) == 11 and len(norms["relu"]) == 11   # 10 hidden layers + output
    assert ratio["sigmoid"] == pytest.approx(norms["sigmoid"][0] / norms["sigmoid"][-1], rel=1e-12)
    assert ratio["sigmoid"] * 100 <= ratio["relu"]
    assert found["diagnose_found_vanishing"]
    loss = found["loss_after_30_epochs"]
    assert loss["sigmoid"] > 0.68 and loss["relu"] < 0.5 * loss["sigmoid"]


def test_10_identity_output_regression_beats_linear_model(run_example):
    found = run_example("10_regression")[1]
    test_r2 = found["test_r2"]
    assert test_r2["2 hidden layers, ReLU"] > 0.9
    assert test_r2["linear neuron"] < 0.9 and test_r2["2 hidden layers, identity"] < 0.9
    # the linear neuron trained by gradient descent ends where least squares is, in closed form
    assert test_r2["linear neuron"] == pytest.approx(found["least_squares_test_r2"], abs=0.02)


def test_11_training_loss_falls_while_validation_gap_grows(run_example):
    found = run_example("11_overfitting")[1]
    depths = sorted(found["train_loss"])
    train = [found["train_loss"][d] for d in depths]
    val = [found["val_loss"][d] for d in depths]
    gap = [found["gap"][d] for d in depths]
    assert all(later < earlier for earlier, later in zip(train, train[1:]))
    assert all(later > earlier for earlier, later in zip(gap, gap[1:]))
    assert val[-1] > min(val)                      # more layers stop helping on unseen data
    assert found["best_val_epoch"][depths[-1]] < found["best_val_epoch"][depths[0]]
