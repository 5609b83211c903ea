// Sync daemons: every option set through the library reads back equal through
// the library and through the real ipvsadm.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';

import { IpvsError } from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';

let lab: Lab;
beforeAll(async () => {
  lab = await createLab();
  // A multicast-capable interface for the daemons to bind to.
  lab.exec('ip', 'link', 'add', 'sync0', 'type', 'dummy');
  lab.exec('ip', 'link', 'set', 'sync0', 'multicast', 'on', 'up');
  lab.exec('ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'sync0');
  lab.exec('ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'sync0', 'nodad');
});
afterAll(async () => {
  await lab?.close();
});
beforeEach(async () => {
  for (const d of await lab.ipvs.listDaemons()) await lab.ipvs.stopDaemon(d.state);
});

it('lists no daemons as []', async () => {
  expect(await lab.ipvs.listDaemons()).toEqual([]);
  expect(lab.ipvsadm('-L', '--daemon').stdout).toBe('');
});

it("starts a master with the kernel's defaults", async () => {
  await lab.ipvs.startDaemon({ state: 'master', interface: 'sync0' });
  const [d] = await lab.ipvs.listDaemons();
  expect(d).toMatchObject({ state: 'master', interface: 'sync0', syncId: 0, group: '224.0.0.81', port: 8848, ttl: 1 });
  expect(d!.maxLength).toBeGreaterThan(0);
  expect(lab.ipvsadm('-L', '--daemon').stdout).toBe(
    `master sync daemon (mcast=sync0, syncid=0, maxlen=${d!.maxLength}, group=224.0.0.81, port=8848, ttl=1)\n`,
  );
});

it('starts master and backup with every option, IPv4 and IPv6 groups', async () => {
  await lab.ipvs.startDaemon({
    state: 'master',
    interface: 'sync0',
    syncId: 7,
    maxLength: 1000,
    group: '239.1.2.3',
    port: 9000,
    ttl: 5,
  });
  await lab.ipvs.startDaemon({
    state: 'backup',
    interface: 'sync0',
    syncId: 255,
    maxLength: 1200,
    group: 'ff02::1:3',
    port: 9001,
    ttl: 2,
  });
  expect(await lab.ipvs.listDaemons()).toEqual([
    { state: 'master', interface: 'sync0', syncId: 7, maxLength: 1000, group: '239.1.2.3', port: 9000, ttl: 5 },
    { state: 'backup', interface: 'sync0', syncId: 255, maxLength: 1200, group: 'ff02::1:3', port: 9001, ttl: 2 },
  ]);
  expect(lab.ipvsadm('-L', '--daemon').stdout).toBe(
    'master sync daemon (mcast=sync0, syncid=7, maxlen=1000, group=239.1.2.3, port=9000, ttl=5)\n' +
      'backup sync daemon (mcast=sync0, syncid=255, maxlen=1200, group=ff02::1:3, port=9001, ttl=2)\n',
  );
});

it('reads back daemons that ipvsadm started', async () => {
  const r = lab.ipvsadm(
    '--start-daemon',
    'backup',
    '--mcast-interface',
    'sync0',
    '--syncid',
    '9',
    '--mcast-group',
    '239.9.9.9',
    '--mcast-port',
    '7777',
    '--mcast-ttl',
    '3',
    '--sync-maxlen',
    '1300',
  );
  expect(r.status).toBe(0);
  expect(await lab.ipvs.listDaemons()).toEqual([
    { state: 'backup', interface: 'sync0', syncId: 9, maxLength: 1300, group: '239.9.9.9', port: 7777, ttl: 3 },
  ]);
});

it("reports a backup's message length as the kernel keeps it: at least 1024", async () => {
  // Measured on 6.1: a backup asked for 900 receives with 1024; a master keeps what it was given.
  await lab.ipvs.startDaemon({ state: 'backup', interface: 'sync0', maxLength: 900 });
  await lab.ipvs.startDaemon({ state: 'master', interface: 'sync0', maxLength: 900 });
  expect((await lab.ipvs.listDaemons()).map((d) => [d.state, d.maxLength])).toEqual([
    ['master', 900],
    ['backup', 1024],
  ]);
});

it("kernel errors carry ipvsadm's messages", async () => {
  await lab.ipvs.startDaemon({ state: 'master', interface: 'sync0' });
  await expect(lab.ipvs.startDaemon({ state: 'master', interface: 'sync0' })).rejects.toMatchObject({
    code: 'EEXIST',
    op: 'startDaemon',
    message: 'Daemon has already run',
  });
  await expect(lab.ipvs.stopDaemon('backup')).rejects.toMatchObject({
    code: 'ESRCH',
    op: 'stopDaemon',
    message: 'No daemon is running',
  });
  const e = await lab.ipvs.startDaemon({ state: 'backup', interface: 'nosuch0' }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(IpvsError);
  expect(e).toMatchObject({ code: 'ENODEV', message: 'No such device' });
  expect((await lab.ipvs.listDaemons()).map((d) => d.state)).toEqual(['master']);
});

it('refuses bad options before sending', async () => {
  const bad: [object, RegExp][] = [
    [{ state: 'primary', interface: 'sync0' }, /state must be one of 'master', 'backup'/],
    [{ state: 'master', interface: 'x'.repeat(16) }, /interface must be 1 to 15 characters/],
    [{ state: 'master', interface: 'sync0', syncId: 256 }, /syncId must be an integer from 0 to 255/],
    [{ state: 'master', interface: 'sync0', maxLength: 65508 }, /maxLength must be an integer from 1 to 65507/],
    [{ state: 'master', interface: 'sync0', group: '192.0.2.9' }, /group must be a multicast address/],
    [{ state: 'master', interface: 'sync0', group: '2001:db8::9' }, /group must be a multicast address/],
    [{ state: 'master', interface: 'sync0', port: 0 }, /port must be an integer from 1 to 65535/],
    [{ state: 'master', interface: 'sync0', ttl: 256 }, /ttl must be an integer from 1 to 255/],
  ];
  for (const [spec, message] of bad) {
    await expect(lab.ipvs.startDaemon(spec as never)).rejects.toThrow(message);
  }
  expect(await lab.ipvs.listDaemons()).toEqual([]);
});
