import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

// The connection-table tests compare reads of a table that must stay still
// while they run. The kernel keeps one connection hash table for every
// namespace, and /proc/net/ip_vs_conn's positions count every namespace's
// entries: an entry of another test's namespace that expires or is flushed
// mid-read shifts what a reader sees by a line (a parallel read lost 1 of
// 20,000 lines when it ran after the traffic tests). So they run first, in a
// lab whose table holds nothing else, and files run one at a time.
class ConnectionTableFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const first = (f: TestSpecification) => (f.moduleId.endsWith('/connections.kernel.test.ts') ? 0 : 1);
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => first(a.f) - first(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

// Two projects: unit tests run anywhere; kernel tests need a kernel with IPVS
// and root, so scripts/test runs them directly or inside the lab (scripts/vm-run).
export default defineConfig({
  test: {
    // One file at a time (a global setting), the connection table's first.
    fileParallelism: false,
    sequence: { sequencer: ConnectionTableFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.kernel.test.ts'],
        },
      },
      {
        test: {
          name: 'kernel',
          include: ['test/**/*.kernel.test.ts'],
          // Under emulation everything is slow: generous limits, no retries.
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // A process per test file: each has its own addon instance and namespace.
          pool: 'forks',
          // Under scripts/sanitize: the sanitizer's runtime for node children only.
          setupFiles: ['test/sanitize/node-only.ts'],
        },
      },
    ],
  },
});
