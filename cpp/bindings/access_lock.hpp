// Private to the binding: who may use a network while Python threads share it.
//
// Any number of readers (predict, evaluate, forward, reading parameters) at once, or one
// writer (training, setting parameters or the optimiser). A writer that waits goes before
// readers that arrive after it, so a stream of predictions never starves a fit. The lock
// is only ever waited for with the GIL released: a writer may need the GIL (the progress
// callback of train_epoch) while others wait.
#pragma once

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace fastmlp::bindings {

class AccessLock {
 public:
  void lock_shared() {
    std::unique_lock<std::mutex> guard(mutex_);
    refuse_reentry();
    readable_.wait(guard, [this] { return !writing_ && waiting_writers_ == 0; });
    ++readers_;
  }

  void unlock_shared() {
    std::lock_guard<std::mutex> guard(mutex_);
    if (--readers_ == 0) writable_.notify_one();
  }

  void lock() {
    std::unique_lock<std::mutex> guard(mutex_);
    refuse_reentry();
    ++waiting_writers_;
    writable_.wait(guard, [this] { return !writing_ && readers_ == 0; });
    --waiting_writers_;
    writing_ = true;
    writer_ = std::this_thread::get_id();
  }

  void unlock() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      writing_ = false;
      writer_ = std::thread::id();
    }
    readable_.notify_all();
    writable_.notify_one();
  }

 private:
  // The thread that trains is the one that would wait for itself: a progress callback
  // that uses the model it is training. Refuse that instead of hanging.
  void refuse_reentry() const {
    if (writing_ && writer_ == std::this_thread::get_id())
      throw std::runtime_error(
          "this network is being trained by this thread; it cannot be used from inside its own training step");
  }

  std::mutex mutex_;
  std::condition_variable readable_, writable_;
  int readers_ = 0;
  int waiting_writers_ = 0;
  bool writing_ = false;
  std::thread::id writer_;
};

}  // namespace fastmlp::bindings
