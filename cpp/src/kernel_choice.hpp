// The engine's side of matrix_kernel.hpp: whether large training products go to the BLAS
// library, decided once (and again only after a setting changes).
#pragma once

namespace fastmlp {

// May load the library and measure (a few milliseconds, once per process or setting).
bool large_products_use_blas();

}  // namespace fastmlp
