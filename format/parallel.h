// Running independent tasks on the machine's cores.
//
// Thread-safety: ParallelFor may be called from any thread; `fn` must be safe
// to call concurrently for different indexes.
#ifndef RETL_FORMAT_PARALLEL_H_
#define RETL_FORMAT_PARALLEL_H_

#include <cstddef>
#include <functional>

namespace retl {

// `threads` if positive, else one per core (at most 64).
int ThreadCount(int threads);

// Calls fn(i) for every i in [0, n), on at most ThreadCount(threads) threads
// (the calling thread is one of them), and returns when all calls have
// returned. Indexes are handed out in increasing order, so put the largest
// tasks first. fn must not throw.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

}  // namespace retl

#endif  // RETL_FORMAT_PARALLEL_H_
