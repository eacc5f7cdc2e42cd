// The whole engine: include this to use fastmlp from C++.
#pragma once

#include "fastmlp/activation.hpp"
#include "fastmlp/initializer.hpp"
#include "fastmlp/loss.hpp"
#include "fastmlp/matrix_kernel.hpp"
#include "fastmlp/network.hpp"
#include "fastmlp/optimizer.hpp"
#include "fastmlp/random.hpp"
#include "fastmlp/sparse.hpp"
#include "fastmlp/threads.hpp"
#include "fastmlp/types.hpp"
