// The published JSON Schema of a desired state agrees with the validator:
// every document the library takes, the schema takes (generated); documents
// the schema refuses, the library refuses too.
import { readFileSync } from 'node:fs';

import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { validateDesired } from '../src/plan.js';
import { serviceSpecToRaw } from '../src/service.js';
import { destinationSpec, serviceSpec } from './helpers/arbitraries.js';

const schema = JSON.parse(
  readFileSync(new URL('../schema/desired-state.schema.json', import.meta.url), 'utf8'),
) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
const valid = ajv.compile(schema);

const document = fc
  .array(
    serviceSpec.chain((s) => {
      const raw = serviceSpecToRaw(s);
      return fc
        .array(destinationSpec(raw.af === 10 ? 'inet6' : 'inet'), { maxLength: 3 })
        .map((destinations) => ({ ...s, destinations }));
    }),
    { maxLength: 4 },
  )
  .map((services) => ({ services }));

describe('the JSON Schema', () => {
  it('takes every document the validator takes', () => {
    fc.assert(
      fc.property(document, (doc) => {
        let accepted = true;
        try {
          validateDesired(doc);
        } catch {
          accepted = false; // a duplicate key, say
        }
        if (accepted) expect(valid(doc), JSON.stringify(valid.errors)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['no services', {}],
    ['an unknown field', { services: [], extra: 1 }],
    ['a service without its key', { services: [{ scheduler: 'rr' }] }],
    ['a fwmark and an address', { services: [{ fwmark: 1, protocol: 'tcp', address: '192.0.2.1', port: 80 }] }],
    ['a port out of range', { services: [{ protocol: 'tcp', address: '192.0.2.1', port: 65536 }] }],
    ['an unknown protocol', { services: [{ protocol: 'icmp', address: '192.0.2.1', port: 80 }] }],
    ['a weight below 0', { services: [{ fwmark: 1, destinations: [{ address: '192.0.2.1', weight: -1 }] }] }],
    ['a tunnel type', { services: [{ fwmark: 1, destinations: [{ address: '192.0.2.1', tunnel: { type: 'x' } }] }] }],
    ['a destination field', { services: [{ fwmark: 1, destinations: [{ address: '192.0.2.1', colour: 1 }] }] }],
  ])('refuses %s, as the validator does', (_what, doc) => {
    expect(valid(doc)).toBe(false);
    expect(() => validateDesired(doc)).toThrow();
  });
});
