#include "fastmlp/matrix_kernel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "blas_library.hpp"
#include "kernel_choice.hpp"
#include "parallel.hpp"

namespace fastmlp {
namespace {

enum Decision : int { kUndecided, kEigen, kBlas };

// BLAS must beat Eigen by this much: on a tie, Eigen's code, which is always there.
constexpr double kRequiredSpeedup = 1.02;

struct State {
  std::mutex mutex;  // guards everything but `decision`
  MatrixKernel setting = MatrixKernel::automatic;
  std::string offered_library, cache_path, reason;
  double speedup = 0;
  std::atomic<int> decision{kUndecided};
};

State& state() {
  static State instance;
  return instance;
}

const char* kCacheHeader = "fastmlp matrix kernel 1";

bool read_cache(const std::string& path, bool& use_blas, double& speedup) {
  std::ifstream file(path);
  std::string header, kernel;
  if (!file || !std::getline(file, header) || header != kCacheHeader) return false;
  if (!(file >> kernel >> speedup) || !(speedup > 0) || (kernel != "blas" && kernel != "eigen")) return false;
  use_blas = kernel == "blas";
  return true;
}

// Written whole under another name and renamed: a reader never sees half a file.
void write_cache(const std::string& path, bool use_blas, double speedup) {
  std::error_code ignored;  // no directory, no cache: the next process measures again
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  const std::string temporary = path + ".partial";
  {
    std::ofstream file(temporary, std::ios::trunc);
    if (!file) return;  // no cache: the next process measures again
    file << kCacheHeader << '\n' << (use_blas ? "blas " : "eigen ") << speedup << '\n';
    if (!file.flush()) return;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) std::remove(temporary.c_str());
}

// Eigen's time ÷ BLAS's on the three products of a wide layer's training step (1024 × 1024
// weights, a 256-row batch), slab by 256-column slab as one of the engine's threads runs them,
// ~0.2 s in all. Whole matrices, not one small compact slab: with a working set
// that fits in L2, both kernels ran at ~91 GFLOP/s on the AMD EPYC Zen 3 of 2026-12-02, while in
// training (and here) Eigen's ran ~5% slower than OpenBLAS's.
double measure_blas_speedup() {
  using Clock = std::chrono::steady_clock;
  const Index batch = 256, width = 1024, slab = 256;
  const auto filled = [](Index rows, Index cols, Index seed) {
    Matrix<float> M(rows, cols);
    for (Index i = 0; i < M.size(); ++i) M.data()[i] = static_cast<float>((i * seed) % 1000) * 1e-3f - 0.5f;
    return M;
  };
  const Matrix<float> A = filled(batch, width, 7919), W = filled(width, width, 104729),
                      dZ = filled(batch, width, 15485863);
  Matrix<float> Z(batch, width), dW(width, width), dA(batch, width);
  const auto product = [&](int which, bool use_blas) {
    for (Index begin = 0; begin < width; begin += slab) {
      switch (which) {
        case 0:  // Z = A·W
          serial_product<float>(use_blas, ProductForm::plain, Z.middleCols(begin, slab), A, W.middleCols(begin, slab));
          break;
        case 1:  // dW = Aᵀ·dZ
          serial_product<float>(use_blas, ProductForm::transposed_left, dW.middleCols(begin, slab), A,
                                dZ.middleCols(begin, slab));
          break;
        default:  // dA = dZ·Wᵀ
          serial_product<float>(use_blas, ProductForm::transposed_right, dA.middleCols(begin, slab), dZ,
                                W.middleRows(begin, slab));
      }
    }
  };
  // Each round times the three products by both kernels back to back, in alternating order, and
  // gives one ratio: a machine busy with other work slows both members of a pair alike. The
  // median of the rounds' ratios is the measurement; round 0 only warms up.
  constexpr int kRounds = 6;
  std::vector<double> ratios;
  for (int round = 0; round < kRounds; ++round) {
    double seconds[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      const bool use_blas = (round + k) % 2 == 1;
      for (int which = 0; which < 3; ++which) {
        const auto start = Clock::now();
        product(which, use_blas);
        seconds[use_blas] += std::chrono::duration<double>(Clock::now() - start).count();
      }
    }
    if (round > 0) ratios.push_back(seconds[0] / seconds[1]);
  }
  std::sort(ratios.begin(), ratios.end());
  return ratios[ratios.size() / 2];
}

int decide(State& s) {
  std::lock_guard<std::mutex> lock(s.mutex);
  int decision = s.decision.load();
  if (decision != kUndecided) return decision;
  s.speedup = 0;
  if (s.offered_library.empty()) {
    s.reason = "no BLAS library was offered";
    decision = kEigen;
  } else {
    try {
      blas::load(s.offered_library);
    } catch (const std::exception& error) {
      s.reason = std::string("the BLAS library did not load: ") + error.what();
      decision = kEigen;
    }
  }
  if (decision == kUndecided) {
    bool use_blas = false;
    if (!s.cache_path.empty() && read_cache(s.cache_path, use_blas, s.speedup)) {
      s.reason = "measured earlier on this machine (" + s.cache_path + ")";
    } else {
      s.speedup = measure_blas_speedup();
      use_blas = s.speedup >= kRequiredSpeedup;
      s.reason = "measured now";
      if (!s.cache_path.empty()) write_cache(s.cache_path, use_blas, s.speedup);
    }
    std::ostringstream why;
    why << s.reason << ": BLAS " << s.speedup << "x as fast as Eigen on a wide layer's three float products, "
        << (use_blas ? "at least " : "less than ") << kRequiredSpeedup << "x";
    s.reason = why.str();
    decision = use_blas ? kBlas : kEigen;
  }
  s.decision.store(decision, std::memory_order_release);
  return decision;
}

}  // namespace

bool large_products_use_blas() {
  State& s = state();
  int decision = s.decision.load(std::memory_order_acquire);
  if (decision == kUndecided) decision = decide(s);
  return decision == kBlas;
}

void set_blas_library(const std::string& path, bool load_now) {
  if (path.empty()) throw std::invalid_argument("the BLAS library's path is empty");
  if (load_now) blas::load(path);
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.offered_library = path;
  if (s.setting == MatrixKernel::automatic) s.decision.store(kUndecided);
}

void set_matrix_kernel(MatrixKernel kernel) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (kernel == MatrixKernel::blas) {
    if (s.offered_library.empty() && !blas::loaded())
      throw std::invalid_argument("the blas matrix kernel needs a BLAS library: offer one first (set_blas_library)");
    if (!blas::loaded()) blas::load(s.offered_library);  // throws, naming the file, if it cannot
  }
  s.setting = kernel;
  s.speedup = 0;
  if (kernel == MatrixKernel::automatic) {
    s.decision.store(kUndecided);
    return;
  }
  s.reason = kernel == MatrixKernel::blas ? "set to blas" : "set to eigen";
  s.decision.store(kernel == MatrixKernel::blas ? kBlas : kEigen);
}

MatrixKernel get_matrix_kernel() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.setting;
}

void set_matrix_kernel_cache(const std::string& path) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.cache_path = path;
}

MatrixKernelReport matrix_kernel_report() {
  const bool use_blas = large_products_use_blas();
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  MatrixKernelReport report;
  report.kernel = use_blas ? "blas" : "eigen";
  report.reason = s.reason;
  report.library = blas::library_path();
  report.library_description = blas::description();
  report.blas_speedup = s.speedup;
  return report;
}

}  // namespace fastmlp
