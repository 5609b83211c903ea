import { afterAll, beforeAll, expect, it } from 'vitest';

import { createLab, type Lab } from './helpers/netns.js';

let lab: Lab;
beforeAll(async () => {
  lab = await createLab();
});
afterAll(async () => {
  await lab?.close();
});

it('reports the version and table size that ipvsadm prints', async () => {
  const info = await lab.ipvs.info();
  const header = lab.ipvsadm('-Ln').stdout.split('\n')[0];
  expect(header).toBe(`IP Virtual Server version ${info.version} (size=${info.connectionTableSize})`);
  expect(info.versionCode).toBe(0x010201);
  expect(info.connectionTableSize).toBeGreaterThan(0);
});
