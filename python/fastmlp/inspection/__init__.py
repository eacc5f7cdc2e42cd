"""Looking inside a network: finite-difference gradient checks, one training step written
out in the lecture's notation, and diagnostics of gradient flow (vanishing or exploding
gradients, saturated sigmoid/tanh units, dead ReLUs).

Everything here is for learning and debugging; it runs through the same engine as
training (``fastmlp._core``), so what it shows is what the engine computes.

Layer numbering: the lecture numbers layers from 1 and calls the input A[0] = X; the API
numbers ``model.layers`` from 0. Layer l of the notes is ``model.layers[l - 1]``. The
reports of explain_step use the notes' numbering (and say so); gradient_check, the
diagnostics and diagnose use the API's.
"""
from ._diagnostics import Diagnosis, Finding, diagnose, layer_diagnostics
from ._explain import explain_step
from ._gradient_check import GradientCheckResult, LayerCheck, gradient_check

__all__ = ["Diagnosis", "Finding", "GradientCheckResult", "LayerCheck", "diagnose", "explain_step",
           "gradient_check", "layer_diagnostics"]
