import { describe, expect, it } from 'vitest';

import { formatSysctl, parseSysctl } from '../src/sysctl.js';

describe('est_cpulist', () => {
  it.each(['0', '0-3,5', '1,3,5-7', '0-15:2/4'])('takes the CPU list %j as it is', (list) => {
    expect(formatSysctl('est_cpulist', list)).toBe(list);
  });

  it('takes back what it reads', () => {
    expect(formatSysctl('est_cpulist', parseSysctl('est_cpulist', '0-1\n'))).toBe('0-1');
  });

  it('takes the empty list (no CPUs: the estimator stops) as the empty line the kernel needs', () => {
    // Measured on 6.12: a write of nothing leaves the list as it was; "\n" empties it, and it reads back as "\n".
    expect(formatSysctl('est_cpulist', '')).toBe('\n');
    expect(parseSysctl('est_cpulist', '\n')).toBe('');
  });

  it.each(['\n', '0-3\n', '0\n5', ' 0', '0,', '0-', 'all', '0\0', 'zero'])(
    'refuses %j with a RangeError naming the sysctl',
    (list) => {
      expect(() => formatSysctl('est_cpulist', list)).toThrow(RangeError);
      expect(() => formatSysctl('est_cpulist', list)).toThrow(/est_cpulist must be a CPU list such as "0-3,6"/);
    },
  );

  it('refuses a non-string with a TypeError', () => {
    expect(() => formatSysctl('est_cpulist', 3 as never)).toThrow(TypeError);
  });
});
