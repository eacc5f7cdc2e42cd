#include "fastmlp/threads.hpp"

#include <Eigen/Core>
#include <stdexcept>
#include <string>
#include <thread>

namespace fastmlp {

void set_num_threads(int n) {
  if (n < 0) throw std::invalid_argument("number of threads must be >= 0 (0 = all cores), got " + std::to_string(n));
  if (n == 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Eigen::setNbThreads(n);
}

int get_num_threads() { return Eigen::nbThreads(); }

}  // namespace fastmlp
