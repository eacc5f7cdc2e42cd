// The entry point of fastmlp._engine_<variant>: the one file of the binding compiled once per
// variant, since the module's name (and so its PyInit_ function) differs; the rest is shared.
#include <pybind11/pybind11.h>

#include "bindings.hpp"

PYBIND11_MODULE(FASTMLP_MODULE_NAME, m) { fastmlp::bindings::define_module(m, FASTMLP_VARIANT); }
