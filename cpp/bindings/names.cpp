// The engine's name tables, as the Python package reads them (it keeps no copy of its own).
#include <pybind11/stl.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "fastmlp/fastmlp.hpp"

namespace py = pybind11;

namespace fastmlp::bindings {
namespace {

std::map<std::string, std::string> as_map(const std::vector<std::pair<std::string, std::string>>& pairs) {
  return {pairs.begin(), pairs.end()};
}

}  // namespace

void bind_names(py::module_& m) {
  m.def("activation_names", &activation_names, "Canonical activation names, in the engine's order.");
  m.def("hidden_activation_names", &hidden_activation_names,
        "Canonical names of the activations a hidden layer may use (not softmax, not step).");
  m.def("activation_aliases", [] { return as_map(activation_aliases()); },
        "Other accepted activation names: {alias: canonical name}.");
  m.def("loss_names", &loss_names, "Canonical names of the training losses.");
  m.def("classification_loss_names", &classification_loss_names,
        "Canonical names of the losses whose targets are classes.");
  m.def("loss_aliases", [] { return as_map(loss_aliases()); }, "Other accepted loss names: {alias: canonical name}.");
  m.def("initializer_names", &initializer_names, "Canonical initializer names.");
  m.def("initializer_aliases", [] { return as_map(initializer_aliases()); },
        "Other accepted initializer names: {alias: canonical name}.");
  m.def("check_output_fits_loss",
        [](const std::string& loss, const std::string& activation, Index n_outputs) {
          check_output_fits_loss(loss_from_name(loss), activation_from_name(activation), n_outputs);
        },
        py::arg("loss"), py::arg("activation"), py::arg("n_outputs"),
        "Raises ValueError saying why when the output activation and loss do not belong together.");
}

}  // namespace fastmlp::bindings
