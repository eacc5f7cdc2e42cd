#include "fastmlp/threads.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastmlp {
namespace {

int default_threads() {
#ifdef _OPENMP
  return std::max(1, omp_get_max_threads());  // honours OMP_NUM_THREADS
#else
  return 1;
#endif
}

std::atomic<int>& thread_count() {
  // Eigen's products always run single-threaded; the engine splits large ones itself
  // (parallel.hpp). Set once, here, before the first product.
  static std::atomic<int> count = [] {
    Eigen::setNbThreads(1);
    return default_threads();
  }();
  return count;
}

}  // namespace

void set_num_threads(int n) {
  if (n < 0) throw std::invalid_argument("number of threads must be >= 0 (0 = all cores), got " + std::to_string(n));
#ifndef _OPENMP
  n = 1;  // built without OpenMP: everything runs on one thread
#endif
  if (n == 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  thread_count().store(n);
}

int get_num_threads() { return thread_count().load(std::memory_order_relaxed); }

}  // namespace fastmlp
