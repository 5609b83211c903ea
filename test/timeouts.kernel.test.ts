import { afterAll, beforeAll, expect, it } from 'vitest';

import { createLab, type Lab } from './helpers/netns.js';

let lab: Lab;
beforeAll(async () => {
  lab = await createLab();
});
afterAll(async () => {
  await lab?.close();
});

it("reads the kernel's defaults as ipvsadm does", async () => {
  expect(await lab.ipvs.getTimeouts()).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  expect(lab.ipvsadm('-L', '--timeout').stdout).toBe('Timeout (tcp tcpfin udp): 900 120 300\n');
});

it('sets each timeout, and 0 or a missing field keeps a value', async () => {
  await lab.ipvs.setTimeouts({ tcp: 3600, tcpFin: 30, udp: 60 });
  expect(await lab.ipvs.getTimeouts()).toEqual({ tcp: 3600, tcpFin: 30, udp: 60 });
  await lab.ipvs.setTimeouts({ udp: 7 });
  expect(await lab.ipvs.getTimeouts()).toEqual({ tcp: 3600, tcpFin: 30, udp: 7 });
  await lab.ipvs.setTimeouts({ tcp: 0, tcpFin: 45 });
  expect(await lab.ipvs.getTimeouts()).toEqual({ tcp: 3600, tcpFin: 45, udp: 7 });
  expect(lab.ipvsadm('-L', '--timeout').stdout).toBe('Timeout (tcp tcpfin udp): 3600 45 7\n');
  // ipvsadm's writes read back through the library as well.
  expect(lab.ipvsadm('--set', '100', '20', '10').status).toBe(0);
  expect(await lab.ipvs.getTimeouts()).toEqual({ tcp: 100, tcpFin: 20, udp: 10 });
});

it('refuses values out of range before sending', async () => {
  const before = await lab.ipvs.getTimeouts();
  await expect(lab.ipvs.setTimeouts({ tcp: 2678401 })).rejects.toThrow(
    /timeouts.tcp must be an integer from 0 to 2678400, got 2678401/,
  );
  await expect(lab.ipvs.setTimeouts({ udp: -1 })).rejects.toThrow(RangeError);
  await expect(lab.ipvs.setTimeouts({ tcpFin: 1.5 })).rejects.toThrow(TypeError);
  expect(await lab.ipvs.getTimeouts()).toEqual(before);
});
