// Draining without a kernel: the options' checks, which connection entries
// count for a destination, and the drain's steps against a scripted kernel
// (the destination's counts poll by poll, the connection table's count):
// weight 0 with every other setting kept, progress, the confirmation by the
// table, removal, timeout, abort, a destination that vanishes or is
// re-weighted; and `ipvs drain`'s command line.
import { constants } from 'node:os';

import { describe, expect, it } from 'vitest';

import { parseDrainArgs, parseTarget, progressLine } from '../src/cli/drain.js';
import { UsageError } from '../src/cli/subcommand.js';
import { Ipvs } from '../src/client.js';
import type { Connection } from '../src/connections.js';
import { K } from '../src/constants.js';
import { destinationFilter, drain, drainRequest, isEntryOf, type DrainOps, type DrainProgress } from '../src/drain.js';
import { IpvsError } from '../src/errors.js';
import type { RawDest, RawDestKey, RawDestSpec, RawServiceKey } from '../src/native.js';
import { bytes, rawDest, rawService } from './helpers/raw.js';

const service: RawServiceKey = rawService();
const key: RawDestKey = { af: K.AF_INET, addr: bytes(198, 51, 100, 1), port: 80 };

describe('drain options', () => {
  it('fills the defaults', () => {
    expect(drainRequest(undefined)).toEqual({
      timeout: 300_000,
      remove: true,
      signal: undefined,
      onProgress: undefined,
      interval: 1000,
    });
    expect(drainRequest({ timeout: Infinity, remove: false, interval: 5 })).toMatchObject({
      timeout: Infinity,
      remove: false,
      interval: 5,
    });
    expect(drainRequest({ timeout: 0 }).timeout).toBe(0);
  });

  it('refuses what is not an option, naming the field', () => {
    const cases: [unknown, ErrorConstructor, RegExp][] = [
      [{ timeout: -1 }, RangeError, /options\.timeout must be at least 0/],
      [{ timeout: 1.5 }, TypeError, /options\.timeout must be an integer number of milliseconds or Infinity/],
      [{ timeout: '10' }, TypeError, /options\.timeout/],
      [{ timeout: NaN }, TypeError, /options\.timeout/],
      [{ remove: 'yes' }, TypeError, /options\.remove must be a boolean/],
      [{ onProgress: 3 }, TypeError, /options\.onProgress must be a function/],
      [{ interval: 0 }, RangeError, /options\.interval must be an integer from 1/],
      [{ signal: {} }, TypeError, /options\.signal must be an AbortSignal/],
      [{ timout: 5 }, TypeError, /options\.timout is not a field of options/],
      [null, TypeError, /options must be an object/],
    ];
    for (const [options, type, message] of cases) {
      expect(() => drainRequest(options as never), JSON.stringify(options)).toThrow(type);
      expect(() => drainRequest(options as never)).toThrow(message);
    }
  });

  it('Ipvs.drain checks keys and options before it asks the kernel anything', async () => {
    const calls: string[] = [];
    const raw = new Proxy({}, { get: (_, p) => () => Promise.resolve(calls.push(String(p))) });
    const ipvs = Object.assign(Object.create(Ipvs.prototype) as Ipvs, { raw });
    const svc = { protocol: 'tcp' as const, address: '192.0.2.1', port: 80 };
    await expect(ipvs.drain({ ...svc, address: 'x' }, { address: '198.51.100.1' })).rejects.toThrow(TypeError);
    await expect(ipvs.drain(svc, { address: '198.51.100.1', port: 70000 })).rejects.toThrow(RangeError);
    await expect(ipvs.drain(svc, { address: '198.51.100.1' }, { timeout: -5 })).rejects.toThrow(RangeError);
    expect(calls).toEqual([]);
  });
});

describe('which entries are a destination’s of a service', () => {
  const entry = (over: Partial<Connection> = {}): Connection => ({
    protocol: 'tcp',
    client: { family: 'inet', address: '203.0.113.2', port: 40000 },
    virtual: { family: 'inet', address: '192.0.2.1', port: 80 },
    destination: { family: 'inet', address: '198.51.100.1', port: 80 },
    state: 'ESTABLISHED',
    expires: 900,
    ...over,
  });

  it('an address service: its protocol, virtual address and port (templates: port 0 too)', () => {
    expect(isEntryOf(service, entry())).toBe(true);
    expect(
      isEntryOf(service, entry({ state: 'NONE', virtual: { family: 'inet', address: '192.0.2.1', port: 0 } })),
    ).toBe(true);
    expect(isEntryOf(service, entry({ protocol: 'udp' }))).toBe(false);
    expect(isEntryOf(service, entry({ virtual: { family: 'inet', address: '192.0.2.2', port: 80 } }))).toBe(false);
    expect(isEntryOf(service, entry({ virtual: { family: 'inet', address: '192.0.2.1', port: 443 } }))).toBe(false);
  });

  it('a service of port 0 (persistent, any port): every port of its address', () => {
    const any = rawService({ port: 0 });
    expect(isEntryOf(any, entry({ virtual: { family: 'inet', address: '192.0.2.1', port: 443 } }))).toBe(true);
  });

  it('IPv6 addresses compare in their one written form', () => {
    const v6 = rawService({ af: K.AF_INET6, addr: bytes(0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1) });
    expect(isEntryOf(v6, entry({ virtual: { family: 'inet6', address: '2001:db8::1', port: 80 } }))).toBe(true);
  });

  it('a fwmark service: every entry of the real server (entries name no mark)', () => {
    const fwm = rawService({ fwmark: 5, protocol: 0, addr: bytes(), port: 0 });
    expect(isEntryOf(fwm, entry({ protocol: 'ip', virtual: { family: 'inet', address: '0.0.0.5', port: 0 } }))).toBe(
      true,
    );
    expect(isEntryOf(fwm, entry())).toBe(true);
  });

  it('filters the table by the real server, by port unless it is 0', () => {
    expect(destinationFilter(key)).toEqual({ destination: { address: '198.51.100.1', port: 80 } });
    expect(destinationFilter({ ...key, port: 0 })).toEqual({ destination: { address: '198.51.100.1' } });
  });
});

/**
 * A kernel whose destination follows `script` read by read (the last one
 * repeats; `null`: the destination is gone), whose connection table
 * holds `table[i]` entries at the i-th look, and which records every change.
 */
function scripted(
  script: (Partial<RawDest> | null)[],
  table: number[] = [0],
  first: Partial<RawDest> = { weight: 3, uThreshold: 10, lThreshold: 2 },
) {
  const calls: string[] = [];
  const edits: RawDestSpec[] = [];
  let poll = 0;
  let look = 0;
  const state = rawDest(first);
  const ops: DrainOps = {
    listDestinations: () => {
      const step = script[Math.min(poll, script.length - 1)];
      poll++;
      calls.push('list');
      return Promise.resolve(step === null ? [] : [{ ...state, ...step }]);
    },
    getService: () => Promise.resolve(rawService()),
    editDestination: (_, spec) => {
      calls.push(`edit weight ${spec.weight}`);
      edits.push(spec);
      state.weight = spec.weight;
      return Promise.resolve();
    },
    deleteDestination: () => {
      calls.push('delete');
      return Promise.resolve();
    },
    tableEntries: () => {
      calls.push('table');
      return Promise.resolve(table[Math.min(look++, table.length - 1)]!);
    },
  };
  return { ops, calls, edits };
}

const counts = (activeConns: number, inactConns: number, persistConns: number): Partial<RawDest> => ({
  activeConns,
  inactConns,
  persistConns,
});

describe('drain against a scripted kernel', () => {
  const fast = { interval: 1, timeout: 5000 };

  it('sets weight 0 keeping every other setting, reports each change, confirms with the table, deletes', async () => {
    const k = scripted([counts(2, 1, 1), counts(2, 1, 1), counts(1, 0, 1), counts(0, 0, 0)]);
    const progress: DrainProgress[] = [];
    const result = await drain(k.ops, service, key, drainRequest({ ...fast, onProgress: (p) => progress.push(p) }));
    expect(result).toMatchObject({ removed: true, vanished: false, previousWeight: 3 });
    expect(k.edits).toEqual([
      {
        af: K.AF_INET,
        addr: bytes(198, 51, 100, 1),
        port: 80,
        fwdMethod: K.IP_VS_CONN_F_MASQ,
        weight: 0,
        uThreshold: 10,
        lThreshold: 2,
        tunType: 0,
        tunPort: 0,
        tunFlags: 0,
      },
    ]);
    // Once at the start (the counts read before the edit), then at each change.
    expect(progress.map(({ active, inactive, persistent, total }) => [active, inactive, persistent, total])).toEqual([
      [2, 1, 1, 4],
      [1, 0, 1, 2],
      [0, 0, 0, 0],
    ]);
    expect(progress.every((p, i) => i === 0 || p.elapsed >= progress[i - 1]!.elapsed)).toBe(true);
    // The table is read only once the counts are 0.
    expect(k.calls).toEqual(['list', 'edit weight 0', 'list', 'list', 'list', 'table', 'delete']);
  });

  it('waits while the table still shows entries after the counts reach 0', async () => {
    const k = scripted([counts(0, 0, 0)], [2, 0]);
    const progress: DrainProgress[] = [];
    await drain(k.ops, service, key, drainRequest({ ...fast, onProgress: (p) => progress.push(p) }));
    expect(k.calls).toEqual(['list', 'edit weight 0', 'table', 'list', 'table', 'delete']);
    expect(progress).toHaveLength(1);
  });

  it('does not edit a destination whose weight is 0 already, and keeps it with remove: false', async () => {
    const k = scripted([counts(0, 0, 0)], [0], { weight: 0 });
    const result = await drain(k.ops, service, key, drainRequest({ ...fast, remove: false }));
    expect(result).toMatchObject({ removed: false, vanished: false, previousWeight: 0 });
    expect(k.calls).toEqual(['list', 'table']);
  });

  it('a destination that does not exist: what editDestination says (ENOENT, or ESRCH without the service)', async () => {
    const k = scripted([null]);
    await expect(drain(k.ops, service, key, drainRequest(fast))).rejects.toMatchObject({
      name: 'IpvsError',
      op: 'editDestination',
      code: 'ENOENT',
      message: 'No such destination',
    });
    k.ops.getService = () => Promise.reject(new IpvsError('getService', constants.errno.ESRCH, 'No such process'));
    await expect(drain(k.ops, service, key, drainRequest(fast))).rejects.toMatchObject({
      op: 'editDestination',
      code: 'ESRCH',
      message: 'Service not defined',
    });
    expect(k.calls).toEqual(['list', 'list']);
  });

  it('times out with ETIMEDOUT, saying what remained and that the weight stays 0', async () => {
    const k = scripted([counts(1, 2, 0)]);
    const error = await drain(k.ops, service, key, drainRequest({ interval: 5, timeout: 30 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpvsError);
    expect(error).toMatchObject({ op: 'drain', code: 'ETIMEDOUT', fromKernel: false });
    expect((error as Error).message).toBe(
      'the drain of TCP 192.0.2.1:80 -> 198.51.100.1:80 timed out after 30 ms: 3 entries remain ' +
        '(1 active, 2 inactive, 0 persistent); its weight was left at 0 (it was 3)',
    );
    expect(k.calls).not.toContain('delete');
  });

  it('times out on entries only the table still shows', async () => {
    const k = scripted([counts(0, 0, 0)], [1]);
    await expect(drain(k.ops, service, key, drainRequest({ interval: 5, timeout: 20 }))).rejects.toThrow(
      /1 connection entry remains in the connection table; its weight was left at 0/,
    );
  });

  it('timeout 0 checks once', async () => {
    const k = scripted([counts(1, 0, 0)]);
    await expect(drain(k.ops, service, key, drainRequest({ timeout: 0 }))).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    const idle = scripted([counts(0, 0, 0)]);
    await expect(drain(idle.ops, service, key, drainRequest({ timeout: 0 }))).resolves.toMatchObject({ removed: true });
  });

  it('an abort ends the wait with an AbortError whose message says the weight stays 0', async () => {
    const k = scripted([counts(1, 0, 0)]);
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 20);
    const error = (await drain(k.ops, service, key, drainRequest({ interval: 5, signal: controller.signal })).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
    expect(error.message).toBe(
      'the drain of TCP 192.0.2.1:80 -> 198.51.100.1:80 was aborted; its weight was left at 0 (it was 3)',
    );
    expect(k.calls).not.toContain('delete');
  });

  it('an aborted signal changes nothing', async () => {
    const k = scripted([counts(0, 0, 0)]);
    const error = await drain(k.ops, service, key, drainRequest({ signal: AbortSignal.abort() })).catch((e) => e);
    expect(error).toMatchObject({ name: 'AbortError', message: expect.stringMatching(/nothing changed/) });
    expect(k.calls).toEqual([]);
  });

  it('an abort while the destination is read changes nothing either', async () => {
    const k = scripted([counts(1, 0, 0)]);
    const controller = new AbortController();
    const list = k.ops.listDestinations;
    k.ops.listDestinations = (svc) => {
      controller.abort();
      return list(svc);
    };
    const error = await drain(k.ops, service, key, drainRequest({ signal: controller.signal })).catch((e) => e);
    expect(error).toMatchObject({ name: 'AbortError', message: expect.stringMatching(/nothing changed/) });
    expect(k.calls).toEqual(['list']);
  });

  it('a destination deleted meanwhile ends the drain: vanished', async () => {
    const k = scripted([counts(1, 0, 0), null]);
    const result = await drain(k.ops, service, key, drainRequest(fast));
    expect(result).toMatchObject({ removed: false, vanished: true });
    expect(k.calls).not.toContain('delete');
  });

  it('a weight set again by another process stops the drain (ECANCELED), the destination kept', async () => {
    const k = scripted([counts(1, 0, 0), { ...counts(0, 0, 0), weight: 5 }]);
    await expect(drain(k.ops, service, key, drainRequest(fast))).rejects.toMatchObject({
      op: 'drain',
      code: 'ECANCELED',
      message: expect.stringMatching(/another process set its weight to 5; it was not removed/),
    });
    expect(k.calls).not.toContain('delete');
  });

  it('an exception of onProgress ends the drain with it', async () => {
    const k = scripted([counts(1, 0, 0)]);
    const boom = new Error('boom');
    const onProgress = () => {
      throw boom;
    };
    await expect(drain(k.ops, service, key, drainRequest({ ...fast, onProgress }))).rejects.toBe(boom);
  });
});

describe('ipvs drain: its command line', () => {
  it('passes the service and server words on to ipvsadm’s grammar, in their order', async () => {
    const a = parseDrainArgs(['-t', '192.0.2.1:80', '-r', '198.51.100.1', '--timeout', '2.5', '--keep']);
    expect(a).toEqual({
      words: ['--tcp-service', '192.0.2.1:80', '--real-server', '198.51.100.1'],
      timeout: 2500,
      keep: true,
      interval: 1000,
    });
    expect(await parseTarget(a.words)).toMatchObject({
      service: { protocol: K.IPPROTO_TCP, port: 80, fwmark: 0 },
      dest: { af: K.AF_INET, port: 80 },
    });
    // ipvsadm's order: a server before its service takes port 0.
    const early = await parseTarget(parseDrainArgs(['-r', '198.51.100.1', '-t', '192.0.2.1:80']).words);
    expect(early.dest.port).toBe(0);
    const v6 = await parseTarget(parseDrainArgs(['-f', '5', '-6', '-r', '2001:db8::2', '--interval', '50']).words);
    expect(v6).toMatchObject({ service: { fwmark: 5, af: K.AF_INET6 }, dest: { af: K.AF_INET6, port: 0 } });
    const udp = await parseTarget(parseDrainArgs(['--udp-service=[2001:db8::1]:53', '-r', '[2001:db8::2]:5353']).words);
    expect(udp).toMatchObject({ service: { protocol: K.IPPROTO_UDP, port: 53 }, dest: { port: 5353 } });
  });

  it('usage errors: ipvsadm’s words for the addresses, its own for its options', async () => {
    const usage = async (args: string[]) => {
      try {
        await parseTarget(parseDrainArgs(args).words);
        return 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
    };
    expect(await usage(['-t', '192.0.2.1:80'])).toBe(
      "You need to supply the 'real-server' option for the 'drain' command",
    );
    expect(await usage(['-r', '198.51.100.1'])).toBe(
      "You need to supply the 'service-address' option for the 'drain' command",
    );
    expect(await usage(['-t', 'x:y', '-r', '198.51.100.1'])).toBe('illegal virtual server address[:port] specified');
    expect(await usage(['-t', '192.0.2.1:80', '-u', '192.0.2.1:80', '-r', '198.51.100.1'])).toBe(
      "multiple 'service-address' options specified",
    );
    expect(await usage(['-t', '192.0.2.1:80', '-r', '198.51.100.1', '--timeout', 'soon'])).toBe(
      "--timeout takes a number of seconds, not 'soon'",
    );
    expect(await usage(['-t', '192.0.2.1:80', '-r', '198.51.100.1', '--interval', '0'])).toMatch(/--interval/);
    expect(await usage(['-t', '192.0.2.1:80', '-r', '198.51.100.1', '-w', '0'])).toMatch(/Unknown option '-w'/);
    expect(await usage(['-t', '192.0.2.1:80', '-r', '198.51.100.1', 'extra'])).toMatch(/extra/);
  });

  it('prints the counts as they change', () => {
    expect(progressLine({ active: 2, inactive: 1, persistent: 0, total: 3, elapsed: 1234 })).toBe(
      '2 active, 1 inactive, 0 persistent after 1.2 s\n',
    );
  });
});
