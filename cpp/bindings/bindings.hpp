// Private to the binding: the parts of fastmlp._core, each bound in its own file.
#pragma once

#include <pybind11/pybind11.h>

namespace fastmlp::bindings {

// Fills fastmlp._engine_<variant> (module_init.cpp names the module and passes its variant).
void define_module(pybind11::module_& m, const char* variant);
void bind_names(pybind11::module_& m);     // names.cpp: the engine's name tables
void bind_networks(pybind11::module_& m);  // network.cpp: LayerSpec, PassResult, Network32/64

}  // namespace fastmlp::bindings
