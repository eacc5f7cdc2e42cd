#include "fastmlp/threads.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "thread_pool.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastmlp {
namespace {

#ifdef _OPENMP
// OpenMP's default for a thread that nobody limited: OMP_NUM_THREADS (its first number) or
// the processors available to the process.
int openmp_default_threads() {
  static const int threads = [] {
    if (const char* setting = std::getenv("OMP_NUM_THREADS")) {
      const int n = std::atoi(setting);
      if (n > 0) return n;
    }
    return std::max(1, omp_get_num_procs());
  }();
  return threads;
}
#endif

int default_threads() {
#ifdef _OPENMP
  return openmp_default_threads();  // honours OMP_NUM_THREADS
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

int threads_for_products() {
  const int threads = get_num_threads();
#ifdef _OPENMP
  // The engine runs no OpenMP region (its own pool is fork-safe, thread_pool.hpp), but it
  // reads OpenMP's per-thread limit: threadpoolctl lowers exactly that for the OpenMP runtime
  // it finds loaded, which is this library's libgomp.
  const int limit = omp_get_max_threads();
  if (limit < openmp_default_threads()) return std::min(threads, limit);
#endif
  return threads;
}

}  // namespace fastmlp
