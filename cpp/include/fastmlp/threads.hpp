// Threads used by the engine's matrix products (process-wide, as BLAS thread counts are).
#pragma once

namespace fastmlp {

// n >= 1 threads; n = 0 means "as many as the machine has".
void set_num_threads(int n);
int get_num_threads();

}  // namespace fastmlp
