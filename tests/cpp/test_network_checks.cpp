// The Network's own argument checks (cpp/src/network_checks.cpp): a C++ caller gets the same
// refusals the Python binding shows, with the layer, the index or both shapes named.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "fastmlp/network.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

template <class Error, class Call>
void expect_error(Call call, const std::string& expected_part) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected one containing: " << expected_part;
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(expected_part), std::string::npos) << error.what();
  }
}

Network<double> two_layers() {
  return Network<double>(3, {{4, Activation::tanh}, {2, Activation::softmax}}, Loss::cross_entropy, 1);
}

TEST(NetworkChecks, SetWeightsChecksTheIndexAndTheShapeAndWrites) {
  Network<double> net = two_layers();
  const Vector<double> before = net.parameters();
  expect_error<std::invalid_argument>([&] { net.set_weights(0, Matrix<double>::Zero(4, 3)); },
                                      "W of layer 0 must have shape (3, 4), got (4, 3)");
  expect_error<std::out_of_range>([&] { net.set_weights(2, Matrix<double>::Zero(4, 2)); },
                                  "layer index 2 out of range for 2 layers");
  expect_error<std::out_of_range>([&] { net.set_weights(-1, Matrix<double>::Zero(3, 4)); }, "layer index -1");
  EXPECT_EQ(net.parameters(), before);  // a refused write changes nothing
  const Matrix<double> W = Matrix<double>::Constant(4, 2, 0.5);
  net.set_weights(1, W);
  EXPECT_EQ(Matrix<double>(net.weights(1)), W);
}

TEST(NetworkChecks, SetBiasChecksTheIndexAndTheLength) {
  Network<double> net = two_layers();
  expect_error<std::invalid_argument>([&] { net.set_bias(1, Vector<double>::Zero(3)); },
                                      "b of layer 1 must have 2 entries, got 3");
  expect_error<std::out_of_range>([&] { net.set_bias(5, Vector<double>::Zero(2)); }, "layer index 5");
  net.set_bias(0, Vector<double>::Constant(4, -1.5));
  EXPECT_EQ(RowVector<double>(net.bias(0)), RowVector<double>::Constant(4, -1.5));
}

TEST(NetworkChecks, SetParametersChecksTheCount) {
  Network<double> net = two_layers();
  expect_error<std::invalid_argument>([&] { net.set_parameters(Vector<double>::Zero(5)); },
                                      "expected 26 parameters, got 5");
  const Vector<double> values = Vector<double>::LinSpaced(26, -1, 1);
  net.set_parameters(values);
  EXPECT_EQ(net.parameters(), values);
}

TEST(NetworkChecks, LayerIndexCheck) {
  const Network<double> net = two_layers();
  EXPECT_NO_THROW(net.check_layer_index(0));
  EXPECT_NO_THROW(net.check_layer_index(1));
  expect_error<std::out_of_range>([&] { net.check_layer_index(2); }, "layer index 2 out of range for 2 layers");
}

TEST(NetworkChecks, EveryEntryPointCountsTheSampleWeights) {
  Network<double> net = two_layers();
  const Matrix<double> X = Matrix<double>::Constant(5, 3, 0.25);
  Matrix<double> Y = Matrix<double>::Zero(5, 2);
  Y.col(0).setOnes();
  const std::vector<double> short_weights(4, 1.0), long_weights(6, 1.0);
  const std::string message = "sample_weight has 4 entries but X has 5 rows";
  expect_error<std::invalid_argument>([&] { net.compute_gradients(X, Y, short_weights); }, message);
  expect_error<std::invalid_argument>([&] { net.train_batch(X, Y, short_weights); }, message);
  expect_error<std::invalid_argument>([&] { net.train_epoch(X, Y, short_weights, 2, true); }, message);
  expect_error<std::invalid_argument>([&] { net.train_epochs(X, Y, long_weights, 2, true, 3); },
                                      "sample_weight has 6 entries");
  expect_error<std::invalid_argument>([&] { net.evaluate(X, Y, short_weights); }, message);
  net.forward(X);
  expect_error<std::invalid_argument>([&] { net.backward(X, Y, short_weights); }, message);
}

// all_finite (types.hpp) answers through a vectorised sum: a non-finite value must be found in
// every position (packet body, scalar tail, any row of a strided view), and huge finite values
// (whose products would overflow) are finite.
TEST(NetworkChecks, AllFiniteFindsEveryNonFiniteValueAnywhere) {
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()};
  Matrix<float> wide = Matrix<float>::Constant(5, 37, std::numeric_limits<float>::max());
  wide(2, 3) = -std::numeric_limits<float>::max();
  EXPECT_TRUE(all_finite(wide));
  EXPECT_TRUE(all_finite(Matrix<float>(0, 4)));
  for (float special : specials)
    for (Index i = 0; i < wide.rows(); ++i)
      for (Index j = 0; j < wide.cols(); ++j) {
        Matrix<float> X = wide;
        X(i, j) = special;
        EXPECT_FALSE(all_finite(X)) << i << ", " << j;
        const ConstMatrixRef<float> columns = X.middleCols(1, 30);  // outer stride 37
        EXPECT_EQ(all_finite(columns), j < 1 || j > 30) << i << ", " << j;
      }
}

TEST(NetworkChecks, PredictRefusesNonFiniteInput) {
  Network<double> net = two_layers();
  Matrix<double> X = Matrix<double>::Zero(3, 3);
  Matrix<double> out(3, 2);
  X(1, 2) = std::numeric_limits<double>::quiet_NaN();
  expect_error<std::invalid_argument>([&] { net.predict(X, out); }, "X contains NaN or infinity");
  X(1, 2) = std::numeric_limits<double>::infinity();
  expect_error<std::invalid_argument>([&] { net.predict(X, out); }, "X contains NaN or infinity");
}

TEST(NetworkChecks, TrainEpochsIsRepeatedTrainEpochAndStopsAtDivergence) {
  const Matrix<double> X = Vector<double>::LinSpaced(12, -1, 1).replicate(1, 3);
  Matrix<double> Y = Matrix<double>::Zero(12, 2);
  Y.col(1).setOnes();
  Network<double> together = two_layers(), one_by_one = two_layers();
  const std::vector<PassResult> results = together.train_epochs(X, Y, nullptr, 4, true, 3);
  ASSERT_EQ(results.size(), 3u);
  for (const PassResult& result : results) {
    const PassResult expected = one_by_one.train_epoch(X, Y, nullptr, 4, true);
    EXPECT_EQ(result.loss, expected.loss);
    EXPECT_EQ(result.correct, expected.correct);
  }
  EXPECT_EQ(together.parameters(), one_by_one.parameters());

  Network<double> diverging(3, {{2, Activation::identity}}, Loss::mse, 1);
  diverging.set_optimizer(Optimizer<double>(SGDConfig{1e30, 0.0, false, 0.0}));
  const Matrix<double> big = Matrix<double>::Constant(4, 3, 1e10);
  const std::vector<PassResult> stopped = diverging.train_epochs(big, Matrix<double>::Ones(4, 2), nullptr, 2, false, 5);
  ASSERT_FALSE(stopped.empty());
  EXPECT_LT(stopped.size(), 5u);
  EXPECT_FALSE(stopped.back().finite);
}

}  // namespace
}  // namespace fastmlp
