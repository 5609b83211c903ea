import { defineConfig } from 'vitest/config';

// Two projects: unit tests run anywhere; kernel tests need a kernel with IPVS
// and root, so scripts/test runs them directly or inside the lab (scripts/vm-run).
export default defineConfig({
  test: {
    // One file at a time (a global setting): the kernel's connection table is
    // one hash table for all namespaces, and /proc/net/ip_vs_conn positions
    // count every namespace's entries, so traffic in another kernel test
    // file's namespace shifts what a reader in this one sees (a parallel read
    // of a "still" table lost 3 of 20,000 lines while the traffic tests ran).
    fileParallelism: false,
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
        },
      },
    ],
  },
});
