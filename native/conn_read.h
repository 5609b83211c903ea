// Reading the connection table: slices, each read by a thread of the addon's
// with a descriptor of its own, handed out in file order with backpressure.
//
// IPVS has no netlink command for its connections; the kernel prints them
// into a seq_file, one line each (format in conn_parse.h). Reading it costs
// time quadratic in the number of entries: every read() restarts the kernel's
// walk of its hash table from the first entry and returns at most one page.
// So the table is read in slices, each by a thread of its own, parsed while
// read, and never by the event loop's thread nor by one of libuv's.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "conn_batch.h"
#include "conn_parse.h"
#include "netlink.h"
#include "stop.h"
#include "task.h"

namespace ipvs {

// What a read needs to know: what to read, where its slices start, and what
// to keep.
struct Plan {
  NetnsPtr ns;                                // whose /proc/net/ip_vs_conn is read
  int fd = -1;                                // a caller's descriptor of a file to read instead (tests); -1: the table
  std::string name = "/proc/net/ip_vs_conn";  // for messages
  std::vector<uint64_t> bounds;               // slice k is [bounds[k], bounds[k+1]), the last one to the end
  size_t batchSize = 4096;
  size_t readSize = 65536;
  bool filtered = false;
  Filter filter;
  // Whether each slice's reads run ahead of its parser on a thread of their
  // own; kAuto: where there are two CPUs for each slice.
  enum class Prefetch { kAuto, kAlways, kNever } prefetch = Prefetch::kAuto;

  bool Prefetching() const;
  uint64_t End(size_t slice) const;
};

// A read of all slices, each on a thread of its own, handing out batches in
// file order. The threads are told of the consumer through Next(), which
// never blocks, and tell it through `notify` (called from any thread) when
// Next() may have something new.
//
// Bounds: the slice being handed out runs at most kReadAhead batches ahead
// of the consumer (its thread then waits); the later slices, which read on so
// that the kernel's work overlaps, pause once the read as a whole holds
// kMaxBuffered bytes of batches: their threads and descriptors end, and each
// goes on from where it paused when it is handed out. So a read that nobody
// consumes holds one thread (two with read-ahead), one descriptor, and at
// most kMaxBuffered bytes plus a batch per slice. Each running slice holds
// one read buffer (readSize plus one line of at most kMaxLine bytes) and,
// with read-ahead, four chunks of readSize.
class Reading : public std::enable_shared_from_this<Reading> {
 public:
  static constexpr size_t kReadAhead = 4;
  static constexpr size_t kMaxBuffered = 4 << 20;

  Reading(Plan plan, StopPtr stop);
  ~Reading();

  // Starts the threads; a thread that cannot start fails the read (Next()
  // reports it), after the ones started have been stopped.
  void Start(std::function<void()> notify);

  enum class Step { kBatch, kEnd, kFailed, kWait };
  // The next batch in file order, without waiting: kWait when it is not read
  // yet (notify will be called), kFailed with the failure of a reader or of
  // the stop (ECANCELED, EBADF).
  Step Next(std::unique_ptr<Batch>& batch, Failure& failure);

  // Stops calling notify; the threads stop soon after (the stop is requested).
  void Detach();

  // Counts the matching entries of the whole table by `by`, with one thread
  // per slice (this one waits for them): for a ThreadTask.
  static std::unique_ptr<Tally> Count(const Plan& plan, Tally::By by, Stop& stop);

 private:
  struct Slice {
    std::deque<std::unique_ptr<Batch>> ready;
    bool running = false;  // a thread reads it
    bool done = false;     // read to its end
    uint64_t resume = 0;   // where it goes on, when paused (neither running nor done)
  };

  // Starts a thread reading slice k from byte `from`; the caller holds mu_.
  void StartLocked(size_t k, uint64_t from);
  void Run(size_t k, uint64_t from);
  // Hands a batch over; false when the slice should pause (or stop).
  bool Push(size_t k, std::unique_ptr<Batch> batch);
  void FailLocked(std::exception_ptr e);
  void NotifyLocked();

  const Plan plan_;
  const StopPtr stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slice> slices_;
  size_t current_ = 0;   // the slice whose batches are handed out
  size_t buffered_ = 0;  // bytes of the batches in every slice's ready queue
  std::exception_ptr failure_;
  std::function<void()> notify_;
};

}  // namespace ipvs
