#include "thread_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace fastmlp {
namespace {

// Consecutive products of a training step follow each other within microseconds, so a
// worker first spins that long for the next task; past that it sleeps.
constexpr auto kSpin = std::chrono::microseconds(50);

void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until ready() or kSpin has passed; true when ready.
template <class Ready>
bool spin_until(const Ready& ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (ready()) return true;
    relax();
    if (i % 64 == 63 && std::chrono::steady_clock::now() > until) return false;
  }
}

thread_local bool running_a_task = false;

// One sleeping place: a flag set under a mutex, so that a wake-up is never lost.
struct Signal {
  std::mutex mutex;
  std::condition_variable condition;
  bool sleeping = false;

  template <class Ready>
  void wait(const Ready& ready) {
    if (spin_until(ready)) return;
    std::unique_lock<std::mutex> lock(mutex);
    sleeping = true;
    condition.wait(lock, ready);
    sleeping = false;
  }
  void notify() {
    std::lock_guard<std::mutex> lock(mutex);
    if (sleeping) condition.notify_one();
  }
};

// A job's state in one word: its generation, whether it is closed to late workers, and how
// many workers have joined it. A worker joins only the generation of its ticket and only while
// the job is open, so the caller never waits for a worker that the OS has not yet run: once
// the caller has finished the tasks it closes the job and waits only for workers inside it.
constexpr std::uint64_t kClosed = std::uint64_t{1} << 31;
constexpr std::uint64_t kJoined = kClosed - 1;
constexpr std::uint64_t generation_of(std::uint64_t state) { return state >> 32; }

class Pool {
 public:
  void run(int tasks, int threads, TaskFunction call, const void* context);

 private:
  struct alignas(64) Worker {
    std::atomic<std::uint64_t> ticket{0};  // the generation of the job this worker may join
    Signal signal;
  };

  void work();
  bool join(std::uint64_t generation);
  void worker_loop(Worker& self);

  std::mutex dispatch_;  // one job at a time
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint64_t generation_ = 0;
  // The current job: written by the caller before it publishes the job's state (release),
  // read by workers after they join it (acquire); unchanged while any worker is inside.
  TaskFunction call_ = nullptr;
  const void* context_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_task_{0};
  std::atomic<std::uint64_t> state_{kClosed};
  Signal done_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

void Pool::work() {
  running_a_task = true;
  for (int i; (i = next_task_.fetch_add(1, std::memory_order_relaxed)) < tasks_;) {
    try {
      call_(context_, i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
  running_a_task = false;
}

bool Pool::join(std::uint64_t generation) {
  std::uint64_t state = state_.load(std::memory_order_acquire);
  while (generation_of(state) == generation && !(state & kClosed)) {
    if (state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void Pool::worker_loop(Worker& self) {
  std::uint64_t seen = 0;
  for (;;) {
    self.signal.wait([&] { return self.ticket.load(std::memory_order_acquire) != seen; });
    seen = self.ticket.load(std::memory_order_acquire);
    if (!join(seen)) continue;  // too late: the caller has done that job
    work();
    const std::uint64_t left = state_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if ((left & kClosed) && (left & kJoined) == 0) done_.notify();
  }
}

void Pool::run(int tasks, int threads, TaskFunction call, const void* context) {
  std::unique_lock<std::mutex> dispatch(dispatch_, std::defer_lock);
  const int helpers = std::min(threads, tasks) - 1;
  if (helpers < 1 || running_a_task || !dispatch.try_lock()) {
    for (int i = 0; i < tasks; ++i) call(context, i);
    return;
  }
  while (static_cast<int>(workers_.size()) < helpers) {
    workers_.push_back(std::make_unique<Worker>());
    Worker& worker = *workers_.back();
    // Detached: workers live as long as the process (the pool is never destroyed).
    std::thread([this, &worker] { worker_loop(worker); }).detach();
  }
  call_ = call;
  context_ = context;
  tasks_ = tasks;
  error_ = nullptr;
  next_task_.store(0, std::memory_order_relaxed);
  ++generation_;
  state_.store(generation_ << 32, std::memory_order_release);
  for (int w = 0; w < helpers; ++w) {
    Worker& worker = *workers_[static_cast<std::size_t>(w)];
    worker.ticket.store(generation_, std::memory_order_release);
    worker.signal.notify();
  }
  work();
  state_.fetch_or(kClosed, std::memory_order_acq_rel);
  done_.wait([&] { return (state_.load(std::memory_order_acquire) & kJoined) == 0; });
  if (error_) std::rethrow_exception(error_);
}

// The process's pool, created at first use. A fork()ed child has none of the parent's
// threads, so it forgets the parent's pool (leaked on purpose: its threads, mutexes and
// state belong to the parent) and creates its own when it first needs one.
std::atomic<Pool*> the_pool{nullptr};

Pool& pool() {
  static const int at_fork_registered =
      pthread_atfork(nullptr, nullptr, [] { the_pool.store(nullptr, std::memory_order_relaxed); });
  (void)at_fork_registered;
  Pool* current = the_pool.load(std::memory_order_acquire);
  if (current) return *current;
  auto* fresh = new Pool();
  if (the_pool.compare_exchange_strong(current, fresh, std::memory_order_acq_rel)) return *fresh;
  delete fresh;  // another thread created it first
  return *current;
}

}  // namespace

void run_tasks(int tasks, int threads, TaskFunction call, const void* context) {
  if (tasks <= 0) return;
  if (threads <= 1 || tasks == 1) {
    for (int i = 0; i < tasks; ++i) call(context, i);
    return;
  }
  pool().run(tasks, threads, call, context);
}

}  // namespace fastmlp
