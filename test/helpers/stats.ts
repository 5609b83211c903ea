// Raw counters of zero, for unit tests that build what the addon returns.
import type { RawStats } from '../../src/native.js';
import { COUNTER_COLUMNS } from '../../src/snapshot.js';

export const ZERO_STATS = Object.fromEntries(COUNTER_COLUMNS.map((name) => [name, 0n])) as unknown as RawStats;
