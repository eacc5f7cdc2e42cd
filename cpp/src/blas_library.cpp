#include "blas_library.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define FASTMLP_HAS_DLOPEN 1
#endif

namespace fastmlp::blas {
namespace {

// CBLAS's enumerations, as every CBLAS header numbers them.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using Dgemm = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*,
                       int);
using SetThreads = void (*)(int);
using GetThreads = int (*)();
using GetText = const char* (*)();

struct Library {
  std::string path;
  Sgemm sgemm = nullptr;
  Dgemm dgemm = nullptr;
  SetThreads set_threads = nullptr;
  GetThreads get_threads = nullptr;
  GetText config = nullptr, core_name = nullptr;
};

std::mutex load_mutex;
Library library;                  // written once, under load_mutex, before `ready` is set
std::atomic<bool> ready{false};   // then only read

#ifdef FASTMLP_HAS_DLOPEN
template <class Function>
Function symbol(void* handle, const std::string& prefix, const char* name) {
  return reinterpret_cast<Function>(dlsym(handle, (prefix + name).c_str()));
}
#endif

// OpenBLAS's threads: one per call, always. threadpoolctl finds the library among the
// process's and may raise its count; the engine lowers it again before its next call.
void keep_single_threaded() {
  if (library.get_threads && library.set_threads && library.get_threads() != 1) library.set_threads(1);
}

#ifdef FASTMLP_HAS_DLOPEN
// OpenBLAS starts its worker threads while it loads, as many as OPENBLAS_NUM_THREADS (or
// OMP_NUM_THREADS, or the CPU count) asks: 63 idle threads on a 64-core machine, each
// spinning for a moment first, for a copy the engine only ever calls with one thread.
// The variable is set to 1 for the load alone and the user's value put back after, so
// NumPy's own OpenBLAS, which reads it at its own load, never sees the change.
class SingleThreadedLoad {
 public:
  SingleThreadedLoad() {
    if (const char* value = std::getenv(kVariable)) previous_ = value;
    setenv(kVariable, "1", 1);
  }
  ~SingleThreadedLoad() {
    if (previous_) setenv(kVariable, previous_->c_str(), 1);
    else unsetenv(kVariable);
  }
  SingleThreadedLoad(const SingleThreadedLoad&) = delete;
  SingleThreadedLoad& operator=(const SingleThreadedLoad&) = delete;

 private:
  static constexpr const char* kVariable = "OPENBLAS_NUM_THREADS";
  std::optional<std::string> previous_;
};

void* open_single_threaded(const std::string& path) {
  SingleThreadedLoad single_threaded;
  // RTLD_LOCAL: its symbols stay its own, beside NumPy's and SciPy's copies of OpenBLAS.
  return dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
}
#endif

}  // namespace

void load(const std::string& path) {
  std::lock_guard<std::mutex> lock(load_mutex);
  if (ready.load()) {
    if (path == library.path) return;
    throw std::runtime_error("a BLAS library is already loaded (" + library.path + "); cannot load " + path);
  }
#ifdef FASTMLP_HAS_DLOPEN
  void* handle = open_single_threaded(path);
  if (!handle) {
    const char* why = dlerror();
    throw std::runtime_error("cannot load the BLAS library " + path + ": " + (why ? why : "unknown error"));
  }
  for (const std::string prefix : {"scipy_", ""}) {
    Library found;
    found.sgemm = symbol<Sgemm>(handle, prefix, "cblas_sgemm");
    found.dgemm = symbol<Dgemm>(handle, prefix, "cblas_dgemm");
    if (!found.sgemm || !found.dgemm) continue;
    found.path = path;
    found.set_threads = symbol<SetThreads>(handle, prefix, "openblas_set_num_threads");
    found.get_threads = symbol<GetThreads>(handle, prefix, "openblas_get_num_threads");
    found.config = symbol<GetText>(handle, prefix, "openblas_get_config");
    found.core_name = symbol<GetText>(handle, prefix, "openblas_get_corename");
    library = found;
    keep_single_threaded();
    ready.store(true);
    return;  // the handle stays open for the life of the process
  }
  dlclose(handle);
  throw std::runtime_error("the library " + path + " has no cblas_sgemm and cblas_dgemm (with or without the prefix scipy_)");
#else
  throw std::runtime_error("loading a BLAS library at run time is not supported on this platform (" + path + ")");
#endif
}

bool loaded() { return ready.load(std::memory_order_acquire); }

std::string library_path() { return loaded() ? library.path : std::string(); }

std::string description() {
  if (!loaded()) return {};
  std::string text = library.config ? library.config() : "a CBLAS library";
  if (library.core_name) text += std::string(" (core ") + library.core_name() + ")";
  return text;
}

template <>
void gemm<float>(bool transpose_a, bool transpose_b, Index m, Index n, Index k, const float* a, Index lda,
                 const float* b, Index ldb, float beta, float* c, Index ldc) {
  keep_single_threaded();
  library.sgemm(kRowMajor, transpose_a ? kTrans : kNoTrans, transpose_b ? kTrans : kNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb),
                beta, c, static_cast<int>(ldc));
}

template <>
void gemm<double>(bool transpose_a, bool transpose_b, Index m, Index n, Index k, const double* a, Index lda,
                  const double* b, Index ldb, double beta, double* c, Index ldc) {
  keep_single_threaded();
  library.dgemm(kRowMajor, transpose_a ? kTrans : kNoTrans, transpose_b ? kTrans : kNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
                c, static_cast<int>(ldc));
}

}  // namespace fastmlp::blas
