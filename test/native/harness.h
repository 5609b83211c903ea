// The native tests' harness: TEST(name) registers a case, CHECK and
// CHECK_EQ fail it with the line, THROWS expects a KernelError;
// IPVS_NATIVE_TEST_MAIN runs every case and exits non-zero if one failed.
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "../../native/error.h"

namespace ipvs::test {

struct Case {
  const char* name;
  void (*run)();
};
inline std::vector<Case>& Cases() {
  static std::vector<Case> cases;
  return cases;
}
struct Register {
  Register(const char* name, void (*run)()) { Cases().push_back({name, run}); }
};
#define TEST(name)                             \
  void name();                                 \
  const Register register_##name(#name, name); \
  void name()

struct Failure {
  std::string what;
};
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) throw Failure{std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " #cond}; \
  } while (0)
#define CHECK_EQ(a, b)                                                                                  \
  do {                                                                                                  \
    auto a_ = (a);                                                                                      \
    auto b_ = (b);                                                                                      \
    if (!(a_ == b_))                                                                                    \
      throw Failure{std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " #a " == " #b ": got " + \
                    std::to_string(a_) + ", expected " + std::to_string(b_)};                           \
  } while (0)

// Runs f, which must throw KernelError with `errnum` and a message that
// contains `text`; returns the error.
inline KernelError Throws(const std::function<void()>& f, int errnum, const std::string& text, int line) {
  try {
    f();
  } catch (const KernelError& e) {
    if (e.errnum != errnum || std::string(e.what()).find(text) == std::string::npos)
      throw Failure{"line " + std::to_string(line) + ": threw errno " + std::to_string(e.errnum) + " \"" + e.what() +
                    "\", expected errno " + std::to_string(errnum) + " with \"" + text + "\""};
    return e;
  }
  throw Failure{"line " + std::to_string(line) + ": did not throw, expected errno " + std::to_string(errnum)};
}
#define THROWS(expr, errnum, text) Throws([&] { expr; }, errnum, text, __LINE__)

inline int RunAll() {
  int failed = 0;
  for (const Case& c : Cases()) {
    try {
      c.run();
      printf("ok   %s\n", c.name);
    } catch (const Failure& f) {
      printf("FAIL %s: %s\n", c.name, f.what.c_str());
      failed++;
    } catch (const std::exception& e) {
      printf("FAIL %s: threw %s\n", c.name, e.what());
      failed++;
    }
  }
  printf("%zu tests, %d failed\n", Cases().size(), failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace ipvs::test

#define IPVS_NATIVE_TEST_MAIN \
  int main() { return ipvs::test::RunAll(); }
