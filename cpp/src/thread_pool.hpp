// The engine's own worker threads, for the products it splits (parallel.cpp).
//
// Not OpenMP's pool, for three reasons: libgomp's pool hangs a fork()ed child that uses it
// again, while this one is dropped in the child and started afresh there (pthread_atfork);
// idle workers spin for at most kSpinMicroseconds and then sleep, so they never take CPU
// from other processes of a busy machine for long; and tasks are handed out one at a time,
// so a thread that the OS deschedules holds back only the task it is on, not a fixed share.
#pragma once

namespace fastmlp {

// Threads for one product: the engine's setting (set_num_threads), lowered by the calling
// thread's OpenMP limit where that was set below the process's default, which is how
// threadpoolctl's threadpool_limits and omp_set_num_threads ask for fewer (threads.cpp).
int threads_for_products();

using TaskFunction = void (*)(const void* context, int task);

// Runs call(context, i) for every i in [0, tasks) on up to `threads` threads, the calling
// thread being one of them, and returns when all are done. Which thread runs a task, and in
// which order, must not change the result: callers give every task its own output. When the
// pool is busy with another caller's tasks (or asked from inside a task), the caller runs all
// tasks itself. The first exception a task throws is rethrown here.
void run_tasks(int tasks, int threads, TaskFunction call, const void* context);

// The same for any callable `task(int)`.
template <class Task>
void run_tasks(int tasks, int threads, const Task& task) {
  run_tasks(tasks, threads, [](const void* context, int i) { (*static_cast<const Task*>(context))(i); }, &task);
}

}  // namespace fastmlp
