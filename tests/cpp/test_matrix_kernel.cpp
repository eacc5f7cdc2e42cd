// The choice of kernel for large training products (cpp/src/matrix_kernel.cpp), and, when
// FASTMLP_TEST_BLAS_LIBRARY names an OpenBLAS (scripts/test passes scipy-openblas32's), the
// BLAS path itself under the sanitizers. The choice is process-wide, so every test here runs in
// a forked child: the next test starts from the defaults.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

#include "fastmlp/matrix_kernel.hpp"
#include "fastmlp/network.hpp"
#include "fastmlp/threads.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

// Runs `body` in a child process; a failed expectation there makes the child exit 1.
void in_child(const std::function<void()>& body) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    body();
    _exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "a check failed in the child (its output is above)";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const char* blas_library() { return std::getenv("FASTMLP_TEST_BLAS_LIBRARY"); }

Vector<float> train_wide(int threads) {
  return testing::train_wide_network(threads, 2, Optimizer<float>(AdamConfig{})).parameters();
}

TEST(MatrixKernel, WithoutALibraryEigenComputesEverything) {
  in_child([] {
    EXPECT_EQ(get_matrix_kernel(), MatrixKernel::automatic);
    const MatrixKernelReport report = matrix_kernel_report();
    EXPECT_EQ(report.kernel, "eigen");
    EXPECT_EQ(report.reason, "no BLAS library was offered");
    EXPECT_TRUE(report.library.empty());
    EXPECT_THROW(set_matrix_kernel(MatrixKernel::blas), std::invalid_argument);
    EXPECT_EQ(get_matrix_kernel(), MatrixKernel::automatic);  // a refused setting changes nothing
    EXPECT_THROW(set_blas_library("", false), std::invalid_argument);
  });
}

TEST(MatrixKernel, AMissingLibraryIsNamedOrLeavesEigenInCharge) {
  in_child([] {
    try {
      set_blas_library("/nonexistent/libopenblas.so", true);
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& error) {
      EXPECT_TRUE(contains(error.what(), "/nonexistent/libopenblas.so")) << error.what();
    }
    set_blas_library("/nonexistent/libopenblas.so", false);  // offered: tried at the first large product
    const Vector<float> weights = train_wide(2);
    EXPECT_TRUE(weights.allFinite());
    const MatrixKernelReport report = matrix_kernel_report();
    EXPECT_EQ(report.kernel, "eigen");
    EXPECT_TRUE(contains(report.reason, "did not load")) << report.reason;
  });
}

TEST(MatrixKernel, BlasTrainsAlikeAtAnyThreadCountAndCloseToEigen) {
  if (!blas_library()) GTEST_SKIP() << "FASTMLP_TEST_BLAS_LIBRARY is not set";
  in_child([] {
    set_blas_library(blas_library(), true);
    set_matrix_kernel(MatrixKernel::eigen);
    const Vector<float> eigen = train_wide(2);
    set_matrix_kernel(MatrixKernel::blas);
    EXPECT_EQ(matrix_kernel_report().kernel, "blas");
    const Vector<float> one = train_wide(1);
    for (int threads : {2, 3, 4})
      EXPECT_TRUE((train_wide(threads).array() == one.array()).all()) << threads << " threads differ from one";
    EXPECT_FALSE((one.array() == eigen.array()).all()) << "BLAS did not run: its bits are Eigen's";
    const float scale = eigen.cwiseAbs().maxCoeff();
    EXPECT_LE((one - eigen).cwiseAbs().maxCoeff(), 1e-3f * scale);  // two epochs of float32 Adam apart
  });
}

TEST(MatrixKernel, TheAutomaticChoiceIsMeasuredAndCached) {
  if (!blas_library()) GTEST_SKIP() << "FASTMLP_TEST_BLAS_LIBRARY is not set";
  const std::string cache = ::testing::TempDir() + "fastmlp-kernel-test-" + std::to_string(getpid()) + "/choice";
  in_child([&] {
    set_matrix_kernel_cache(cache);
    set_blas_library(blas_library(), false);
    const MatrixKernelReport report = matrix_kernel_report();
    EXPECT_GT(report.blas_speedup, 0.0);
    EXPECT_TRUE(contains(report.reason, "measured now")) << report.reason;
    EXPECT_EQ(report.kernel, report.blas_speedup >= 1.02 ? "blas" : "eigen");
  });
  in_child([&] {
    set_matrix_kernel_cache(cache);
    set_blas_library(blas_library(), false);
    const MatrixKernelReport report = matrix_kernel_report();
    EXPECT_TRUE(contains(report.reason, "measured earlier")) << report.reason;
  });
  std::remove(cache.c_str());
}

}  // namespace
}  // namespace fastmlp
