// src/constants.ts must agree with the <linux/ip_vs.h> the addon was built against.
import { expect, it } from 'vitest';

import { K } from '../src/constants.js';
import { native } from '../src/native.js';

it('matches the kernel header, name by name', () => {
  const fromHeader = native().constants;
  expect(Object.keys(fromHeader).sort()).toEqual(Object.keys(K).sort());
  expect(fromHeader).toEqual({ ...K });
});
