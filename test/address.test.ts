import { describe, expect, it } from 'vitest';

import { formatAddress, parseAddress } from '../src/address.js';

// Expected texts were produced by glibc's inet_ntop (python's socket.inet_ntop).
const ntop: [string, string][] = [
  ['::', '::'],
  ['::1', '::1'],
  ['::2', '::2'],
  ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
  ['::192.0.2.1', '::192.0.2.1'],
  ['2001:db8::', '2001:db8::'],
  ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ['fe80::1:0:0:1', 'fe80::1:0:0:1'],
  ['0:0:1::', '0:0:1::'],
  ['2001:db8::ffff:0:1', '2001:db8::ffff:0:1'],
  ['::ffff:0:1.2.3.4', '::ffff:0:102:304'],
  ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ['1::', '1::'],
  ['2001:DB8::A', '2001:db8::a'],
];

describe('IPv6', () => {
  it.each(ntop)('%s formats as %s', (input, output) => {
    const parsed = parseAddress(input);
    expect(parsed?.family).toBe('inet6');
    expect(formatAddress('inet6', parsed!.bytes)).toBe(output);
  });

  it('puts the bytes in network order', () => {
    expect([...parseAddress('2001:db8::1')!.bytes]).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
  });

  it.each([
    '',
    ':',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '12345::',
    'g::1',
    '1:2:3:4:5:6:7',
    '::1.2.3',
    '1.2.3.4::',
    '::1.2.3.4:5',
    'fe80::1%eth0',
    '[::1]',
  ])('rejects %j', (input) => {
    expect(parseAddress(input)).toBeUndefined();
  });
});

describe('IPv4', () => {
  it('parses a dotted quad into the first four bytes', () => {
    const p = parseAddress('192.0.2.255')!;
    expect(p.family).toBe('inet');
    expect([...p.bytes]).toEqual([192, 0, 2, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(formatAddress('inet', p.bytes)).toBe('192.0.2.255');
  });

  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '0x1.2.3.4', '1234', 'example.com'])(
    'rejects %j',
    (input) => {
      expect(parseAddress(input)).toBeUndefined();
    },
  );
});
