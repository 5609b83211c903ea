#include "connections.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "convert.h"
#include "netlink.h"
#include "procfs.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

namespace {

// /proc/net links to /proc/self/net, the namespace of the process's main
// thread; /proc/thread-self/net is the opening thread's, which OpenInNetns
// moves into the client's namespace. The descriptor keeps that namespace.
constexpr const char* kProcPath = "/proc/thread-self/net/ip_vs_conn";

// Batches of the slice being consumed that its reader may hold ready before
// it waits for the consumer. Later slices read on regardless, so that every
// slice ends when the first one does (their batches wait in memory).
constexpr size_t kReadAhead = 4;

constexpr uint64_t kToEnd = std::numeric_limits<uint64_t>::max();

// One line of the file. The views point into the text it was parsed from.
struct Entry {
  std::string_view protocol, state;
  bool hasPe = false;
  std::string_view peName, peData;
  uint8_t af = AF_INET, destinationAf = AF_INET;
  uint8_t client[16], virt[16], destination[16];
  uint16_t clientPort = 0, virtualPort = 0, destinationPort = 0;
  uint32_t expires = 0;
};

// Takes the next run of non-spaces off `rest`; false when none is left.
bool NextToken(std::string_view& rest, std::string_view& token) {
  size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') i++;
  size_t j = i;
  while (j < rest.size() && rest[j] != ' ') j++;
  token = rest.substr(i, j - i);
  rest.remove_prefix(j);
  return !token.empty();
}

bool ParseHex(std::string_view s, size_t maxDigits, uint32_t& out) {
  if (s.empty() || s.size() > maxDigits) return false;
  uint32_t v = 0;
  for (char c : s) {
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = v << 4 | d;
  }
  out = v;
  return true;
}

bool ParseDecimal(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > std::numeric_limits<uint32_t>::max()) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

bool ParsePort(std::string_view s, uint16_t& out) {
  uint32_t v;
  if (!ParseHex(s, 4, v)) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

// An IPv4 address is printed `%08X` in host order; an IPv6 one `%pI6`, eight
// groups of four hex digits. Both become 16 bytes in network order.
bool ParseAddr(std::string_view s, uint8_t& af, uint8_t out[16]) {
  memset(out, 0, 16);
  if (s.find(':') == std::string_view::npos) {
    uint32_t v;
    if (s.size() != 8 || !ParseHex(s, 8, v)) return false;
    v = htonl(v);
    memcpy(out, &v, 4);
    af = AF_INET;
    return true;
  }
  char text[INET6_ADDRSTRLEN];
  if (s.size() >= sizeof text) return false;
  memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  if (inet_pton(AF_INET6, text, out) != 1) return false;
  af = AF_INET6;
  return true;
}

// `%-3s %s %04X %s %04X %s %04X %-11s %7u%s`: protocol, client, virtual and
// destination address and port, state, seconds to expiry, then the
// persistence engine's text: empty, or " <name> <data>" with the data free
// text to the end of the line. Client and virtual share a family; the
// destination may have the other one.
bool ParseLine(std::string_view line, Entry& e) {
  std::string_view rest = line;
  std::string_view t;
  uint8_t virtualAf;
  if (!NextToken(rest, e.protocol)) return false;
  if (!NextToken(rest, t) || !ParseAddr(t, e.af, e.client)) return false;
  if (!NextToken(rest, t) || !ParsePort(t, e.clientPort)) return false;
  if (!NextToken(rest, t) || !ParseAddr(t, virtualAf, e.virt) || virtualAf != e.af) return false;
  if (!NextToken(rest, t) || !ParsePort(t, e.virtualPort)) return false;
  if (!NextToken(rest, t) || !ParseAddr(t, e.destinationAf, e.destination)) return false;
  if (!NextToken(rest, t) || !ParsePort(t, e.destinationPort)) return false;
  if (!NextToken(rest, e.state)) return false;
  if (!NextToken(rest, t) || !ParseDecimal(t, e.expires)) return false;
  e.hasPe = NextToken(rest, e.peName);
  e.peData = e.hasPe && !rest.empty() ? rest.substr(1) : std::string_view();
  return true;
}

[[noreturn]] void ThrowBadLine(const std::string& path, std::string_view line) {
  throw KernelError(EBADMSG, "unexpected line in " + path + ": \"" + std::string(line) + "\"");
}

// What a caller asks to keep. An address of family 0 and a port of -1 match
// anything; an empty protocol or state too.
struct Match {
  uint8_t af = 0;
  uint8_t addr[16] = {};
  int32_t port = -1;

  bool Test(uint8_t entryAf, const uint8_t* entryAddr, uint16_t entryPort) const {
    if (af != 0 && (af != entryAf || memcmp(addr, entryAddr, af == AF_INET ? 4 : 16) != 0)) return false;
    return port < 0 || port == entryPort;
  }
};

struct Filter {
  std::string protocol, state;  // as the kernel prints them
  Match client, virt, destination;

  bool Test(const Entry& e) const {
    return (protocol.empty() || protocol == e.protocol) && (state.empty() || state == e.state) &&
           client.Test(e.af, e.client, e.clientPort) && virt.Test(e.af, e.virt, e.virtualPort) &&
           destination.Test(e.destinationAf, e.destination, e.destinationPort);
  }
};

// Names stored once per batch, each entry holding an index.
class Interner {
 public:
  // With `none`, index 0 is the empty string and stands for "no value".
  explicit Interner(bool none) {
    if (none) Intern("");
  }

  uint32_t Intern(std::string_view s) {
    // Neighbouring entries mostly share their names: try the last one first.
    if (last_ < names_.size() && names_[last_] == s) return last_;
    auto [it, fresh] = index_.try_emplace(std::string(s), static_cast<uint32_t>(names_.size()));
    if (fresh) names_.emplace_back(s);
    return last_ = it->second;
  }

  const std::string& operator[](uint32_t i) const { return names_[i]; }

  Napi::Array ToJs(Napi::Env env) const {
    Napi::Array arr = Napi::Array::New(env, names_.size());
    for (size_t i = 0; i < names_.size(); i++) arr.Set(i, Napi::String::New(env, names_[i]));
    return arr;
  }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> index_;
  uint32_t last_ = 0;
};

// A column handed to JavaScript without a copy: the typed array's buffer is
// the vector's memory, freed when the array is collected. A vector with much
// unused capacity (a batch's last, part-filled) is copied instead, so that
// JavaScript holds no more memory than the column needs.
template <typename T>
Napi::TypedArrayOf<T> Column(Napi::Env env, std::vector<T>&& v) {
  if (v.empty() || v.capacity() > v.size() + v.size() / 8) {
    auto arr = Napi::TypedArrayOf<T>::New(env, v.size());
    if (!v.empty()) memcpy(arr.Data(), v.data(), v.size() * sizeof(T));
    return arr;
  }
  auto* owned = new std::vector<T>(std::move(v));
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, owned->data(), owned->size() * sizeof(T), [](Napi::Env, void*, std::vector<T>* hint) { delete hint; }, owned);
  return Napi::TypedArrayOf<T>::New(env, owned->size(), buffer, 0);
}

// Entries in columns; the shape is RawConnectionBatch in src/native.ts.
class Batch {
 public:
  Batch() = default;
  // Room for `n` entries of IPv4 addresses, so that a full batch's columns
  // have no unused capacity (up to kReserveMax entries: larger batches grow).
  explicit Batch(size_t n) {
    n = std::min(n, kReserveMax);
    for (auto* v : {&protocolIndex_, &stateIndex_, &peNameIndex_, &clientPort_, &virtualPort_, &destinationPort_}) v->reserve(n);
    for (auto* v : {&peDataIndex_, &expires_}) v->reserve(n);
    for (auto* v : {&af_, &destinationAf_}) v->reserve(n);
    for (auto* v : {&client_, &virtual_, &destination_}) v->reserve(4 * n);
  }

  size_t length() const { return expires_.size(); }

  void Add(const Entry& e) {
    protocolIndex_.push_back(Small(protocols_.Intern(e.protocol)));
    stateIndex_.push_back(Small(states_.Intern(e.state)));
    peNameIndex_.push_back(e.hasPe ? Small(peNames_.Intern(e.peName)) : 0);
    peDataIndex_.push_back(e.hasPe ? peData_.Intern(e.peData) : 0);
    af_.push_back(e.af);
    destinationAf_.push_back(e.destinationAf);
    if (e.af != AF_INET && width_ == 4) {
      Widen(client_);
      Widen(virtual_);
      width_ = 16;
    }
    if (e.destinationAf != AF_INET && destinationWidth_ == 4) {
      Widen(destination_);
      destinationWidth_ = 16;
    }
    client_.insert(client_.end(), e.client, e.client + width_);
    virtual_.insert(virtual_.end(), e.virt, e.virt + width_);
    destination_.insert(destination_.end(), e.destination, e.destination + destinationWidth_);
    clientPort_.push_back(e.clientPort);
    virtualPort_.push_back(e.virtualPort);
    destinationPort_.push_back(e.destinationPort);
    expires_.push_back(e.expires);
  }

  // Entry i again; its views point into this batch.
  Entry At(size_t i) const {
    Entry e;
    e.protocol = protocols_[protocolIndex_[i]];
    e.state = states_[stateIndex_[i]];
    e.hasPe = peNameIndex_[i] != 0;
    e.peName = peNames_[peNameIndex_[i]];
    e.peData = peData_[peDataIndex_[i]];
    e.af = af_[i];
    e.destinationAf = destinationAf_[i];
    memset(e.client, 0, 16);
    memset(e.virt, 0, 16);
    memset(e.destination, 0, 16);
    memcpy(e.client, &client_[i * width_], width_);
    memcpy(e.virt, &virtual_[i * width_], width_);
    memcpy(e.destination, &destination_[i * destinationWidth_], destinationWidth_);
    e.clientPort = clientPort_[i];
    e.virtualPort = virtualPort_[i];
    e.destinationPort = destinationPort_[i];
    e.expires = expires_[i];
    return e;
  }

  // The batch's columns move into JavaScript: the batch is empty after.
  Napi::Object ToJs(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("length", Napi::Number::New(env, static_cast<double>(length())));
    o.Set("protocols", protocols_.ToJs(env));
    o.Set("protocolIndex", Column(env, std::move(protocolIndex_)));
    o.Set("states", states_.ToJs(env));
    o.Set("stateIndex", Column(env, std::move(stateIndex_)));
    o.Set("family", Column(env, std::move(af_)));
    o.Set("addressLength", Napi::Number::New(env, width_));
    o.Set("destinationAddressLength", Napi::Number::New(env, destinationWidth_));
    o.Set("client", Column(env, std::move(client_)));
    o.Set("clientPort", Column(env, std::move(clientPort_)));
    o.Set("virtual", Column(env, std::move(virtual_)));
    o.Set("virtualPort", Column(env, std::move(virtualPort_)));
    o.Set("destinationFamily", Column(env, std::move(destinationAf_)));
    o.Set("destination", Column(env, std::move(destination_)));
    o.Set("destinationPort", Column(env, std::move(destinationPort_)));
    o.Set("expires", Column(env, std::move(expires_)));
    o.Set("persistenceEngines", peNames_.ToJs(env));
    o.Set("persistenceEngineIndex", Column(env, std::move(peNameIndex_)));
    o.Set("persistenceData", peData_.ToJs(env));
    o.Set("persistenceDataIndex", Column(env, std::move(peDataIndex_)));
    return o;
  }

 private:
  static constexpr size_t kReserveMax = 16384;

  // Protocol, state and engine names are few (the kernel has a fixed set of
  // each); more than 65536 in one batch is not a connection table.
  static uint16_t Small(uint32_t index) {
    if (index > 0xffff) throw KernelError(EBADMSG, "more than 65536 distinct names in one batch of connections");
    return static_cast<uint16_t>(index);
  }

  // Rewrites 4-byte addresses as 16-byte ones (IPv4 in the first 4 bytes).
  static void Widen(std::vector<uint8_t>& column) {
    size_t n = column.size() / 4;
    column.resize(n * 16);
    for (size_t i = n; i-- > 0;) {
      memmove(&column[i * 16], &column[i * 4], 4);
      memset(&column[i * 16 + 4], 0, 12);
    }
  }

  // Bytes per address in client_ and virtual_ (one family), and in
  // destination_: 4 while every entry so far is IPv4, 16 from the first
  // IPv6 one on. IPv4-only tables, the common case, take a quarter of the space.
  size_t width_ = 4, destinationWidth_ = 4;
  Interner protocols_{false}, states_{false}, peNames_{true}, peData_{true};
  std::vector<uint16_t> protocolIndex_, stateIndex_, peNameIndex_;
  std::vector<uint32_t> peDataIndex_;
  std::vector<uint8_t> af_, destinationAf_, client_, virtual_, destination_;
  std::vector<uint16_t> clientPort_, virtualPort_, destinationPort_;
  std::vector<uint32_t> expires_;
};

// Calls onLine(offset, line) for each complete line of data[0, n), offset
// counted from data; returns the bytes taken (up to the last newline).
template <typename OnLine>
size_t SplitLines(const char* data, size_t n, OnLine&& onLine) {
  size_t at = 0;
  while (at < n) {
    const void* nl = memchr(data + at, '\n', n - at);
    if (nl == nullptr) break;
    size_t len = static_cast<const char*>(nl) - (data + at);
    if (!onLine(at, std::string_view(data + at, len))) return n;
    at += len + 1;
  }
  return at;
}

// What a read needs to know: the file, where its slices start, and what to keep.
struct Plan {
  std::string path;              // kProcPath unless a test names a file
  std::vector<uint64_t> bounds;  // slice k is [bounds[k], bounds[k+1]), the last one to the end
  size_t batchSize = 4096;
  size_t readSize = 65536;
  bool filtered = false;
  Filter filter;
  // Whether each slice's reads run ahead of its parser on a thread of their
  // own; kAuto: where there are two CPUs for each slice.
  enum class Prefetch { kAuto, kAlways, kNever } prefetch = Prefetch::kAuto;

  bool Prefetching() const {
    if (prefetch != Prefetch::kAuto) return prefetch == Prefetch::kAlways;
    return 2 * bounds.size() <= std::thread::hardware_concurrency();
  }

  uint64_t End(size_t slice) const { return slice + 1 < bounds.size() ? bounds[slice + 1] : kToEnd; }
};

// Opens the table in the namespace `nsfd` (-1: the process's), from a thread
// that enters it (OpenInNetns), so no reader or libuv thread ever moves.
int OpenTable(int nsfd, const std::string& path) {
  try {
    return OpenInNetns(nsfd, path, O_RDONLY);
  } catch (const KernelError& e) {
    if (e.errnum == ENOENT && path == kProcPath)
      throw KernelError(ENOENT, "no /proc/net/ip_vs_conn in this network namespace: IPVS is not loaded");
    throw;
  }
}

// The bytes of one slice, read ahead of its parser by a thread of their own,
// so that the kernel's printing and our parsing overlap on two CPUs.
class ReadAhead {
 public:
  // Reads `fd` from file offset `offset` until its end, or until a whole
  // line starting at or after `end` has been read (the parser stops there),
  // or until the parser stops taking chunks.
  ReadAhead(int fd, const std::string& path, uint64_t offset, uint64_t end, size_t readSize, const std::atomic<bool>& stop)
      : path_(path), stop_(stop), thread_([this, fd, offset, end, readSize] { Run(fd, offset, end, readSize); }) {}

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
          if (stop_.load(std::memory_order_relaxed)) return Finish(nullptr);
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
  const std::atomic<bool>& stop_;
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
void ReadSlice(int nsfd, const Plan& plan, size_t k, const std::atomic<bool>& stop, OnEntry&& onEntry) {
  Fd fd{OpenTable(nsfd, plan.path)};
  const uint64_t start = plan.bounds[k];
  const uint64_t end = plan.End(k);
  uint64_t offset = start == 0 ? 0 : start - 1;  // of buf[0] in the file
  if (offset > 0 && lseek(fd.fd, static_cast<off_t>(offset), SEEK_SET) < 0)
    ThrowErrno(errno, "seeking in " + plan.path);
  std::unique_ptr<ReadAhead> ahead;
  if (plan.Prefetching()) ahead = std::make_unique<ReadAhead>(fd.fd, plan.path, offset, end, plan.readSize, stop);
  bool synced = false;
  bool done = false;
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
    if (!ParseLine(line, e)) ThrowBadLine(plan.path, line);
    if (!plan.filtered || plan.filter.Test(e)) onEntry(e);
    return true;
  };
  // One buffer for the whole slice: each read appends after the partial
  // line the last one left.
  std::vector<char> buf(plan.readSize);
  size_t have = 0;
  while (!done && !stop.load(std::memory_order_relaxed)) {
    if (buf.size() - have < plan.readSize) buf.resize(have + plan.readSize);
    size_t n = ahead ? ahead->Take(buf.data() + have, plan.readSize) : ReadSome(fd.fd, buf.data() + have, plan.readSize, plan.path);
    size_t filled = have + n;
    size_t taken = SplitLines(buf.data(), filled, onLine);
    if (n == 0) {
      // The kernel ends every line with a newline; a file may not. (A
      // read-ahead thread also ends early when told to stop: no line then.)
      if (!done && taken < filled && !stop.load(std::memory_order_relaxed))
        onLine(taken, std::string_view(buf.data() + taken, filled - taken));
      return;
    }
    memmove(buf.data(), buf.data() + taken, filled - taken);
    have = filled - taken;
    offset += taken;
  }
}

// A read of all slices, each on a thread of its own, handing out batches in
// file order. Shared by those threads and the JavaScript handle.
class Reading : public std::enable_shared_from_this<Reading> {
 public:
  Reading(std::shared_ptr<GenlSocket> sock, Plan plan)
      : sock_(std::move(sock)), plan_(std::move(plan)), slices_(plan_.bounds.size()) {}

  void Start() {
    for (size_t k = 0; k < slices_.size(); k++) {
      try {
        std::thread([self = shared_from_this(), k] { self->Run(k); }).detach();
      } catch (const std::system_error& e) {
        Fail(std::make_exception_ptr(KernelError(e.code().value(), std::string("starting a reader thread: ") + e.what())));
        return;
      }
    }
  }

  // Waits for the next batch in file order: nullptr at the end or once
  // stopped. Rethrows a reader's failure.
  std::unique_ptr<Batch> Next() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (failure_) std::rethrow_exception(failure_);
      if (stopped_ || current_ == slices_.size()) return nullptr;
      Slice& s = slices_[current_];
      if (!s.ready.empty()) {
        std::unique_ptr<Batch> batch = std::move(s.ready.front());
        s.ready.pop_front();
        cv_.notify_all();
        return batch;
      }
      if (s.done) {
        current_++;
        cv_.notify_all();
        continue;
      }
      cv_.wait(lock);
    }
  }

  // The readers stop before their next read() and close their descriptors.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

 private:
  struct Slice {
    std::deque<std::unique_ptr<Batch>> ready;
    bool done = false;
  };

  void Run(size_t k) {
    try {
      auto batch = std::make_unique<Batch>(plan_.batchSize);
      ReadSlice(sock_ ? sock_->netnsFd() : -1, plan_, k, stopped_, [&](const Entry& e) {
        batch->Add(e);
        if (batch->length() < plan_.batchSize) return;
        Push(k, std::move(batch));
        batch = std::make_unique<Batch>(plan_.batchSize);
      });
      if (batch->length() > 0) Push(k, std::move(batch));
      std::lock_guard<std::mutex> lock(mu_);
      slices_[k].done = true;
      cv_.notify_all();
    } catch (...) {
      Fail(std::current_exception());
    }
  }

  void Push(size_t k, std::unique_ptr<Batch> batch) {
    std::unique_lock<std::mutex> lock(mu_);
    slices_[k].ready.push_back(std::move(batch));
    cv_.notify_all();
    cv_.wait(lock, [&] { return stopped_ || k != current_ || slices_[k].ready.size() < kReadAhead; });
  }

  void Fail(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failure_) failure_ = e;
    stopped_ = true;
    cv_.notify_all();
  }

  const std::shared_ptr<GenlSocket> sock_;  // keeps the namespace descriptor open
  const Plan plan_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slice> slices_;
  size_t current_ = 0;  // the slice whose batches are handed out
  std::atomic<bool> stopped_{false};
  std::exception_ptr failure_;
};

// Counts of entries by one key, in the order keys first appear, each with
// the first entry that had it.
class Tally {
 public:
  enum class By { kState, kDestination, kService };
  explicit Tally(By by) : by_(by) {}

  void Add(const Entry& e, uint32_t n = 1) {
    auto [it, fresh] = index_.try_emplace(Key(e), counts_.size());
    if (fresh) {
      firsts_.Add(e);
      counts_.push_back(0);
    }
    counts_[it->second] += n;
  }

  void Merge(const Tally& other) {
    for (size_t i = 0; i < other.counts_.size(); i++) Add(other.firsts_.At(i), other.counts_[i]);
  }

  // Moves the first entries' columns into JavaScript.
  Napi::Object ToJs(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("entries", firsts_.ToJs(env));
    o.Set("counts", Column(env, std::move(counts_)));
    return o;
  }

 private:
  std::string Key(const Entry& e) const {
    std::string key;
    switch (by_) {
      case By::kState:
        key.assign(e.state);
        break;
      case By::kDestination:
        key.push_back(static_cast<char>(e.destinationAf));
        key.append(reinterpret_cast<const char*>(e.destination), 16);
        key.append(reinterpret_cast<const char*>(&e.destinationPort), 2);
        break;
      case By::kService:
        key.push_back(static_cast<char>(e.af));
        key.append(reinterpret_cast<const char*>(e.virt), 16);
        key.append(reinterpret_cast<const char*>(&e.virtualPort), 2);
        key.append(e.protocol);
        break;
    }
    return key;
  }

  By by_;
  std::unordered_map<std::string, size_t> index_;
  Batch firsts_;
  std::vector<uint32_t> counts_;
};

// --- arguments ---------------------------------------------------------------

Match MatchFrom(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsObject()) throw Napi::TypeError::New(obj.Env(), std::string("field ") + name + " must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Match m;
  m.af = static_cast<uint8_t>(U32Field(o, "af"));
  AddrField(o, "addr", m.addr);
  Napi::Value port = o.Get("port");
  if (!port.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string("field ") + name + ".port must be a number");
  m.port = port.As<Napi::Number>().Int32Value();
  return m;
}

// A RawConnectionFilter, or null: false.
bool FilterArg(const Napi::Value& value, Filter& out) {
  if (value.IsNull()) return false;
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "the connection filter must be an object or null");
  Napi::Object f = value.As<Napi::Object>();
  out.protocol = StringField(f, "protocol");
  out.state = StringField(f, "state");
  out.client = MatchFrom(f, "client");
  out.virt = MatchFrom(f, "virtual");
  out.destination = MatchFrom(f, "destination");
  return true;
}

Plan PlanFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ObjectArg(info, 1, "connection read options");
  Plan plan;
  plan.path = StringField(o, "path");
  if (plan.path.empty()) plan.path = kProcPath;
  Napi::Value bounds = o.Get("bounds");
  if (!bounds.IsArray()) throw Napi::TypeError::New(env, "field bounds must be an array");
  Napi::Array arr = bounds.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value b = arr.Get(i);
    double d = b.IsNumber() ? b.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= 9007199254740991.0) || (i == 0 && d != 0) || (i > 0 && d < plan.bounds.back()))
      throw Napi::TypeError::New(env, "field bounds must be ascending byte offsets starting at 0");
    plan.bounds.push_back(static_cast<uint64_t>(d));
  }
  if (plan.bounds.empty()) throw Napi::TypeError::New(env, "field bounds must be ascending byte offsets starting at 0");
  plan.batchSize = U32Field(o, "batchSize");
  plan.readSize = U32Field(o, "readSize");
  if (plan.batchSize == 0 || plan.readSize == 0)
    throw Napi::TypeError::New(env, "fields batchSize and readSize must be positive");
  plan.filtered = FilterArg(o.Get("filter"), plan.filter);
  Napi::Value prefetch = o.Get("prefetch");
  if (prefetch.IsBoolean()) {
    plan.prefetch = prefetch.As<Napi::Boolean>().Value() ? Plan::Prefetch::kAlways : Plan::Prefetch::kNever;
  } else if (!prefetch.IsUndefined()) {
    throw Napi::TypeError::New(env, "field prefetch must be a boolean or undefined");
  }
  return plan;
}

// The socket argument: a handle, or null for the process's own namespace.
std::shared_ptr<GenlSocket> SocketArg(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNull()) return nullptr;
  return Socket::From(info[0]);
}

class ConnectionReader : public Napi::ObjectWrap<ConnectionReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ConnectionReader",
                       {InstanceMethod<&ConnectionReader::Next>("next"), InstanceMethod<&ConnectionReader::Close>("close")});
  }

  explicit ConnectionReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConnectionReader>(info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), "ConnectionReader handles are made by connectionBatches()");
    reading_ = *info[0].As<Napi::External<std::shared_ptr<Reading>>>().Data();
  }

  // A handle collected without close() still stops its threads.
  ~ConnectionReader() override { reading_->Stop(); }

 private:
  Napi::Value Next(const Napi::CallbackInfo& info) {
    std::shared_ptr<Reading> reading = reading_;
    using Result = std::unique_ptr<Batch>;
    return Task<Result>::Run(
        info.Env(), "connectionBatches", [reading](Result& out) { out = reading->Next(); },
        [](Napi::Env env, Result& out) -> Napi::Value { return out ? out->ToJs(env) : env.Null(); });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    reading_->Stop();
    return info.Env().Undefined();
  }

  std::shared_ptr<Reading> reading_;
};

}  // namespace

void DefineConnectionReader(Napi::Env env) {
  env.GetInstanceData<Napi::ObjectReference>()->Set("ConnectionReader", ConnectionReader::Define(env));
}

Napi::Value ConnectionBatches(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto reading = std::make_shared<Reading>(SocketArg(info), PlanFrom(info));
  reading->Start();
  Napi::Function ctor = env.GetInstanceData<Napi::ObjectReference>()->Get("ConnectionReader").As<Napi::Function>();
  return ctor.New({Napi::External<std::shared_ptr<Reading>>::New(env, &reading)});
}

Napi::Value ConnectionStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<GenlSocket> sock = SocketArg(info);
  auto plan = std::make_shared<const Plan>(PlanFrom(info));
  std::string by = StringField(info[1].As<Napi::Object>(), "by");
  Tally::By key;
  if (by == "state") {
    key = Tally::By::kState;
  } else if (by == "destination") {
    key = Tally::By::kDestination;
  } else if (by == "service") {
    key = Tally::By::kService;
  } else {
    throw Napi::TypeError::New(env, "field by must be 'state', 'destination' or 'service'");
  }
  return Task<std::unique_ptr<Tally>>::Run(
      env, "connectionStats",
      [sock, plan, key](std::unique_ptr<Tally>& out) {
        // One thread per slice, then the slices' tallies merged in file order.
        size_t n = plan->bounds.size();
        std::vector<std::unique_ptr<Tally>> tallies;
        std::vector<std::exception_ptr> failures(n);
        std::vector<std::thread> threads;
        std::atomic<bool> stop{false};
        std::exception_ptr spawnFailure;
        for (size_t k = 0; k < n; k++) tallies.push_back(std::make_unique<Tally>(key));
        for (size_t k = 0; k < n && !spawnFailure; k++) {
          try {
            threads.emplace_back([&, k] {
              try {
                ReadSlice(sock ? sock->netnsFd() : -1, *plan, k, stop, [&](const Entry& e) { tallies[k]->Add(e); });
              } catch (...) {
                failures[k] = std::current_exception();
                stop = true;
              }
            });
          } catch (...) {
            spawnFailure = std::current_exception();
            stop = true;
          }
        }
        for (std::thread& t : threads) t.join();
        if (spawnFailure) std::rethrow_exception(spawnFailure);
        for (std::exception_ptr& f : failures)
          if (f) std::rethrow_exception(f);
        out = std::move(tallies[0]);
        for (size_t k = 1; k < n; k++) out->Merge(*tallies[k]);
      },
      [](Napi::Env env, std::unique_ptr<Tally>& out) -> Napi::Value { return out->ToJs(env); });
}

Napi::Value ParseConnections(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "expected the text as a Uint8Array");
  Napi::Uint8Array text = info[0].As<Napi::Uint8Array>();
  Filter filter;
  bool filtered = info.Length() > 1 && FilterArg(info[1], filter);
  const char* data = reinterpret_cast<const char*>(text.Data());
  size_t n = text.ByteLength();
  Batch batch;
  bool header = true;
  auto onLine = [&](size_t, std::string_view line) {
    if (header) {
      header = false;
      return true;
    }
    Entry e;
    if (!ParseLine(line, e)) throw Napi::Error::New(env, "unexpected line: \"" + std::string(line) + "\"");
    if (!filtered || filter.Test(e)) batch.Add(e);
    return true;
  };
  try {
    size_t taken = SplitLines(data, n, onLine);
    if (taken < n) onLine(taken, std::string_view(data + taken, n - taken));
  } catch (const KernelError& e) {
    throw Napi::Error::New(env, e.what());
  }
  return batch.ToJs(env);
}

}  // namespace ipvs
