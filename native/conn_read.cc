#include "conn_read.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>
#include <thread>

#include "procfs.h"

namespace ipvs {

namespace {

constexpr uint64_t kToEnd = std::numeric_limits<uint64_t>::max();

// /proc/net links to /proc/self/net, the namespace of the process's main
// thread; /proc/thread-self/net is the opening thread's, which OpenInNetns
// moves into the client's namespace. The descriptor keeps that namespace.
constexpr const char* kProcPath = "/proc/thread-self/net/ip_vs_conn";

// A descriptor of its own for one slice: of the table in the plan's
// namespace, or a new open file description of the caller's file (a
// descriptor of it proves the caller may read it).
int OpenTable(const Plan& plan) {
  if (plan.fd >= 0) {
    int fd = open(("/proc/self/fd/" + std::to_string(plan.fd)).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      ThrowErrno(e, "opening " + plan.name);
    }
    return fd;
  }
  try {
    return OpenInNetns(*plan.ns, kProcPath, O_RDONLY);
  } catch (const KernelError& e) {
    if (e.errnum == ENOENT)
      throw KernelError(ENOENT, "no /proc/net/ip_vs_conn in this network namespace: IPVS is not loaded");
    throw;
  }
}

[[noreturn]] void ThrowBadLine(const std::string& name, std::string_view line) {
  throw KernelError(EBADMSG, "unexpected line in " + name + ": " + QuoteLine(line));
}

// The bytes of one slice, read ahead of its parser by a thread of their own,
// so that the kernel's printing and our parsing overlap on two CPUs.
class ReadAhead {
 public:
  // Reads `fd` from file offset `offset` until its end, or until a whole
  // line starting at or after `end` has been read (the parser stops there),
  // or until the parser stops taking chunks.
  ReadAhead(int fd, const std::string& path, uint64_t offset, uint64_t end, size_t readSize, const Stop& stop)
      : path_(path), stop_(stop), thread_([this, fd, offset, end, readSize] {
          NameThread("ipvs-readahead");
          Run(fd, offset, end, readSize);
        }) {}

  ~ReadAhead() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      abandoned_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }

  // Copies up to `cap` bytes of the stream into `dst`: 0 at its end.
  // Rethrows the reading thread's failure.
  size_t Take(char* dst, size_t cap) {
    while (at_ == current_.size()) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !chunks_.empty() || finished_; });
      if (chunks_.empty()) {
        if (failure_) std::rethrow_exception(failure_);
        return 0;
      }
      if (current_.capacity() != 0) spares_.push_back(std::move(current_));
      current_ = std::move(chunks_.front());
      chunks_.pop_front();
      at_ = 0;
      cv_.notify_all();
    }
    size_t n = std::min(cap, current_.size() - at_);
    memcpy(dst, current_.data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  // Chunks read but not yet taken; the reader waits beyond this.
  static constexpr size_t kAhead = 4;

  // Chunks of up to readSize bytes, from as many read()s as that takes (the
  // kernel gives at most a page per read).
  void Run(int fd, uint64_t offset, uint64_t end, size_t readSize) {
    try {
      // Newlines seen at or after end - 1: the first ends the line that
      // straddles the end, the second the line after it, which tells the
      // parser it is done.
      int newlinesPastEnd = 0;
      bool more = true;
      while (more) {
        std::vector<char> chunk = Spare();
        chunk.resize(readSize);
        size_t filled = 0;
        while (more && filled < readSize) {
          if (stop_.requested()) return Finish(nullptr);
          size_t n = ReadSome(fd, chunk.data() + filled, readSize - filled, path_);
          if (offset + n >= end) {
            for (size_t i = offset + 1 >= end ? 0 : end - 1 - offset; i < n && newlinesPastEnd < 2; i++)
              if (chunk[filled + i] == '\n') newlinesPastEnd++;
          }
          offset += n;
          filled += n;
          // The end of the file, or of the slice.
          more = n > 0 && newlinesPastEnd < 2;
        }
        chunk.resize(filled);
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return abandoned_ || chunks_.size() < kAhead; });
        if (abandoned_) return;
        if (filled > 0) chunks_.push_back(std::move(chunk));
        cv_.notify_all();
      }
      Finish(nullptr);
    } catch (...) {
      Finish(std::current_exception());
    }
  }

  // A chunk the parser is done with, or a new one.
  std::vector<char> Spare() {
    std::lock_guard<std::mutex> lock(mu_);
    if (spares_.empty()) return {};
    std::vector<char> chunk = std::move(spares_.back());
    spares_.pop_back();
    return chunk;
  }

  void Finish(std::exception_ptr failure) {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    failure_ = failure;
    cv_.notify_all();
  }

  const std::string path_;
  const Stop& stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<char>> chunks_;
  std::vector<std::vector<char>> spares_;  // taken chunks, for the reader to fill again
  bool finished_ = false, abandoned_ = false;
  std::exception_ptr failure_;
  std::vector<char> current_;  // the parser's chunk, taken from at_
  size_t at_ = 0;
  std::thread thread_;  // last: starts once the members it uses exist
};

// Reads slice `k` of the plan: the lines whose first byte lies in the slice,
// each handed to onEntry if the filter keeps it. A slice starting at s > 0
// seeks to s - 1 (the kernel walks there) and skips through the first newline
// at or after it, which a line starting at s directly follows; the first
// slice skips the header the same way. The last line taken is the one that
// straddles the slice's end. So the slices together give each line once.
// Where the plan says so, another thread does the reading (ReadAhead).
template <typename OnEntry>
uint64_t ReadSlice(const Plan& plan, size_t k, uint64_t start, const Stop& stop, OnEntry&& onEntry) {
  Fd fd{OpenTable(plan)};
  const uint64_t end = plan.End(k);
  uint64_t offset = start == 0 ? 0 : start - 1;  // of buf[0] in the file
  if (offset > 0 && lseek(fd.fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    int e = errno;
    ThrowErrno(e, "seeking in " + plan.name);
  }
  std::unique_ptr<ReadAhead> ahead;
  if (plan.Prefetching()) ahead = std::make_unique<ReadAhead>(fd.fd, plan.name, offset, end, plan.readSize, stop);
  bool synced = false;
  bool done = false;
  uint64_t resume = kToEnd;
  auto onLine = [&](size_t at, std::string_view line) {
    if (!synced) {
      synced = true;
      return true;
    }
    if (offset + at >= end) {
      done = true;
      return false;
    }
    Entry e;
    if (!ParseLine(line, e)) ThrowBadLine(plan.name, line);
    if (plan.filtered && !plan.filter.Test(e)) return true;
    if (onEntry(e)) return true;
    // Paused: the slice goes on later from the line after this one.
    resume = offset + at + line.size() + 1;
    done = true;
    return false;
  };
  // One buffer for the whole slice: each read appends after the partial
  // line the last one left.
  std::vector<char> buf(plan.readSize);
  size_t have = 0;
  while (!done && !stop.requested()) {
    if (buf.size() - have < plan.readSize) buf.resize(have + plan.readSize);
    size_t n = ahead ? ahead->Take(buf.data() + have, plan.readSize)
                     : ReadSome(fd.fd, buf.data() + have, plan.readSize, plan.name);
    size_t filled = have + n;
    size_t taken = SplitLines(buf.data(), filled, onLine);
    if (n == 0) {
      // The kernel ends every line with a newline; a file may not. (A
      // read-ahead thread also ends early when told to stop: no line then.)
      if (!done && taken < filled && !stop.requested())
        onLine(taken, std::string_view(buf.data() + taken, filled - taken));
      return resume;
    }
    memmove(buf.data(), buf.data() + taken, filled - taken);
    have = filled - taken;
    if (have > kMaxLine)
      throw KernelError(EBADMSG, "a line longer than " + std::to_string(kMaxLine) + " bytes in " + plan.name +
                                     " (it is not the connection table)");
    offset += taken;
  }
  return resume;
}

}  // namespace

bool Plan::Prefetching() const {
  if (prefetch != Prefetch::kAuto) return prefetch == Prefetch::kAlways;
  return 2 * bounds.size() <= std::thread::hardware_concurrency();
}

uint64_t Plan::End(size_t slice) const { return slice + 1 < bounds.size() ? bounds[slice + 1] : kToEnd; }

Reading::Reading(Plan plan, StopPtr stop)
    : plan_(std::move(plan)), stop_(std::move(stop)), slices_(plan_.bounds.size()) {}

Reading::~Reading() { stop_->SetWaker(nullptr); }

void Reading::Start(std::function<void()> notify) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notify_ = std::move(notify);
  }
  // A stop (abort, close) wakes the threads that wait for the consumer, and
  // the consumer. The reading outlives no thread, so a weak pointer suffices.
  std::weak_ptr<Reading> weak = shared_from_this();
  stop_->SetWaker([weak] {
    if (auto self = weak.lock()) {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->cv_.notify_all();
      self->NotifyLocked();
    }
  });
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t k = 0; k < slices_.size() && !failure_; k++) StartLocked(k, plan_.bounds[k]);
}

void Reading::StartLocked(size_t k, uint64_t from) {
  try {
    std::thread([self = shared_from_this(), k, from] {
      NameThread("ipvs-read");
      self->Run(k, from);
    }).detach();
    slices_[k].running = true;
  } catch (...) {
    // EAGAIN, or ENOMEM for the thread's state: the threads started see the
    // failure and end.
    FailLocked(ThreadStartException("a reader thread"));
  }
}

Reading::Step Reading::Next(std::unique_ptr<Batch>& batch, Failure& failure) {
  std::lock_guard<std::mutex> lock(mu_);
  for (;;) {
    if (failure_) {
      failure = Failure::Of([&] { std::rethrow_exception(failure_); });
      return Step::kFailed;
    }
    if (stop_->requested()) {
      failure = Failure::Of([&] { stop_->ThrowIfRequested(); });
      return Step::kFailed;
    }
    if (current_ == slices_.size()) return Step::kEnd;
    Slice& s = slices_[current_];
    // A slice that paused goes on once it is the one handed out.
    if (!s.done && !s.running) StartLocked(current_, s.resume);
    if (!s.ready.empty()) {
      batch = std::move(s.ready.front());
      s.ready.pop_front();
      buffered_ -= std::min(buffered_, batch->bytes());
      cv_.notify_all();
      return Step::kBatch;
    }
    if (!s.done) {
      if (failure_) continue;
      return Step::kWait;
    }
    current_++;
    cv_.notify_all();
  }
}

void Reading::Detach() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notify_ = nullptr;
  }
  stop_->Request(ECANCELED);
}

void Reading::NotifyLocked() {
  if (notify_) notify_();
}

void Reading::Run(size_t k, uint64_t from) {
  try {
    auto batch = std::make_unique<Batch>(plan_.batchSize);
    uint64_t resume = ReadSlice(plan_, k, from, *stop_, [&](const Entry& e) {
      batch->Add(e);
      if (batch->length() < plan_.batchSize) return true;
      bool more = Push(k, std::move(batch));
      batch = std::make_unique<Batch>(plan_.batchSize);
      return more;
    });
    if (batch->length() > 0) Push(k, std::move(batch));
    std::lock_guard<std::mutex> lock(mu_);
    Slice& s = slices_[k];
    s.running = false;
    if (resume == kToEnd) {
      s.done = true;
    } else {
      s.resume = resume;
      // It may have become the current slice meanwhile: then go on at once.
      if (k == current_ && !stop_->requested() && !failure_) StartLocked(k, resume);
    }
    NotifyLocked();
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    slices_[k].running = false;
    FailLocked(std::current_exception());
  }
}

bool Reading::Push(size_t k, std::unique_ptr<Batch> batch) {
  std::unique_lock<std::mutex> lock(mu_);
  // Backpressure: the slice being handed out waits for the consumer beyond a
  // few batches; a later one pauses (its thread and descriptor end) once the
  // whole read holds kMaxBuffered bytes, and goes on when it is handed out.
  cv_.wait(lock,
           [&] { return stop_->requested() || failure_ || k != current_ || slices_[k].ready.size() < kReadAhead; });
  if (stop_->requested() || failure_) return false;  // ReadSlice sees the stop next
  buffered_ += batch->bytes();
  slices_[k].ready.push_back(std::move(batch));
  NotifyLocked();
  return k == current_ || buffered_ < kMaxBuffered;
}

void Reading::FailLocked(std::exception_ptr e) {
  if (!failure_) failure_ = e;
  cv_.notify_all();
  NotifyLocked();
}

std::unique_ptr<Tally> Reading::Count(const Plan& plan, Tally::By by, Stop& stop) {
  // One thread per slice, then the slices' tallies merged in file order. The
  // first failure stops the other slices (through `stop`) and is reported.
  size_t n = plan.bounds.size();
  std::vector<std::unique_ptr<Tally>> tallies;
  for (size_t k = 0; k < n; k++) tallies.push_back(std::make_unique<Tally>(by));
  std::vector<std::exception_ptr> failures(n + 1);
  std::vector<std::thread> threads;
  threads.reserve(n);  // a vector that cannot grow must not leave threads unjoined
  for (size_t k = 0; k < n && !stop.requested(); k++) {
    try {
      threads.emplace_back([&, k] {
        NameThread("ipvs-count");
        try {
          ReadSlice(plan, k, plan.bounds[k], stop, [&](const Entry& e) {
            tallies[k]->Add(e);
            return true;
          });
        } catch (...) {
          failures[k] = std::current_exception();
          stop.Request(ECANCELED);
        }
      });
    } catch (...) {
      failures[n] = ThreadStartException("a reader thread");
      stop.Request(ECANCELED);
    }
  }
  for (std::thread& t : threads) t.join();
  for (std::exception_ptr& f : failures)
    if (f) std::rethrow_exception(f);
  stop.ThrowIfRequested();
  auto out = std::move(tallies[0]);
  for (size_t k = 1; k < n; k++) out->Merge(*tallies[k]);
  return out;
}

}  // namespace ipvs
