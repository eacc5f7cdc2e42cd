// Threads used by the engine's matrix products (process-wide, as BLAS thread counts are).
#pragma once

namespace fastmlp {

// n >= 1 threads; n = 0 means "as many as the machine has". The default is OpenMP's
// (OMP_NUM_THREADS, else the number of cores). A product uses fewer where the calling thread's
// OpenMP limit was lowered (threadpoolctl's threadpool_limits, omp_set_num_threads); the
// threads are the engine's own, not OpenMP's, so a process may fork after using them. The
// first call to either function also sets Eigen's own GEMM to one thread: the engine decides
// itself which products to split.
void set_num_threads(int n);
int get_num_threads();

}  // namespace fastmlp
