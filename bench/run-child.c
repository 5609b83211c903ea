// Runs a command as a child, its stdin and stdout on /dev/null (stderr kept),
// and reports what the child cost, measured from just before the fork to its
// reaping by wait4: so none of this helper's own start is counted, and the
// command's output is not kept anywhere. With --netns PATH the child runs in
// that network namespace (entered before the clock starts: a listing there
// sees that namespace's IPVS table); with --stdin FILE its stdin is FILE.
// Prints one line:
//
//   WALL_NS USER_NS SYS_NS MAXRSS_KIB EXIT_STATUS
//
// EXIT_STATUS is the child's exit code, or 128 + the signal that killed it.
//
//   run-child [--netns PATH] [--stdin FILE] CMD [ARG...]
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_ns(struct timeval tv) { return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; }

int main(int argc, char** argv) {
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "--netns") == 0) {
    int ns = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
      perror(argv[2]);
      return 125;
    }
    close(ns);
    first = 3;
  }
  const char* input = "/dev/null";
  if (argc > first + 1 && strcmp(argv[first], "--stdin") == 0) {
    input = argv[first + 1];
    first += 2;
  }
  if (first >= argc) {
    fprintf(stderr, "usage: run-child [--netns PATH] [--stdin FILE] CMD [ARG...]\n");
    return 125;
  }
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  int in = open(input, O_RDONLY | O_CLOEXEC);
  if (null < 0 || in < 0) {
    perror(input);
    return 125;
  }
  fflush(stdout);
  long long t0 = now();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 125;
  }
  if (pid == 0) {
    dup2(in, 0);
    dup2(null, 1);
    execvp(argv[first], argv + first);
    perror(argv[first]);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("wait4");
    return 125;
  }
  long long wall = now() - t0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("%lld %lld %lld %ld %d\n", wall, tv_ns(ru.ru_utime), tv_ns(ru.ru_stime), ru.ru_maxrss, code);
  return 0;
}
