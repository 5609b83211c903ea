// The vocabulary tables: each maps both ways, with ipvsadm's spellings.
import { expect, it } from 'vitest';

import { FORWARDING_METHODS, forwardingByName, forwardingByValue } from '../src/vocabulary/forwarding.js';
import { dottedMask, prefixToMask } from '../src/vocabulary/netmask.js';
import {
  PROTOCOLS,
  protocolByKernel,
  protocolByName,
  protocolByNumber,
  SERVICE_PROTOCOLS,
} from '../src/vocabulary/protocols.js';
import { schedulerFlagNames } from '../src/vocabulary/scheduler-flags.js';
import { versionText } from '../src/vocabulary/version.js';

it('maps protocols by name, number and kernel text alike', () => {
  for (const p of PROTOCOLS) {
    expect(protocolByName(p.name)).toBe(p);
    expect(protocolByNumber(p.number)).toBe(p);
    expect(protocolByKernel(p.kernel)).toBe(p);
  }
  expect(SERVICE_PROTOCOLS).toEqual(['tcp', 'udp', 'sctp']);
  expect(protocolByName('sctp')?.option).toBe('--sctp-service');
});

it('maps forwarding methods by name and by the low bits of a flag word', () => {
  for (const f of FORWARDING_METHODS) {
    expect(forwardingByName(f.name)).toBe(f);
    expect(forwardingByValue(f.value | 0x0100)).toBe(f);
  }
  expect(FORWARDING_METHODS.map((f) => f.ipvsadm)).toEqual(['Masq', 'Local', 'Tunnel', 'Route']);
});

it('names scheduler flags per scheduler, as the library and as ipvsadm', () => {
  expect(schedulerFlagNames('rr', 0x38)).toEqual(['flag-1', 'flag-2', 'flag-3']);
  expect(schedulerFlagNames('sh', 0x38)).toEqual(['sh-fallback', 'sh-port', 'flag-3']);
  expect(schedulerFlagNames('sh', 0x38, { ipvsadm: true })).toEqual(['sh-fallback', 'sh-port']);
  expect(schedulerFlagNames('mh', 0x10)).toEqual(['mh-port']);
});

it('converts masks and versions', () => {
  expect(dottedMask(prefixToMask(24))).toBe('255.255.255.0');
  expect(prefixToMask(0)).toBe(0);
  expect(prefixToMask(32)).toBe(0xffffffff);
  expect(versionText(0x010201)).toBe('1.2.1');
});
