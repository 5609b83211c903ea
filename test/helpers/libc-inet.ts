// The C library's inet_pton and inet_ntop, as the reference for the
// library's own address parsing and formatting (src/address.ts). Python's
// socket.inet_pton/inet_ntop call the C functions themselves (glibc's here, as
// ipvsadm's), unlike Node, whose net module parses with libuv's own code. Many
// questions go to one python3 process at a time: a process each would cost
// seconds.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import type { Family } from '../../src/address.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// stdin: a JSON list of ["pton", family, text] and ["ntop", family, hex];
// stdout: a JSON list of answers, hex bytes or text, null where the C
// function refused.
const REFERENCE = String.raw`
import json, socket, sys
AF = {'inet': socket.AF_INET, 'inet6': socket.AF_INET6}
out = []
for op, family, arg in json.load(sys.stdin):
    try:
        if op == 'pton':
            out.append(socket.inet_pton(AF[family], arg).hex())
        else:
            out.append(socket.inet_ntop(AF[family], bytes.fromhex(arg)))
    except (OSError, ValueError):
        out.append(None)
json.dump(out, sys.stdout)
`;

type Question = ['pton', Family, string] | ['ntop', Family, string];

function ask(questions: Question[]): (string | null)[] {
  if (questions.length === 0) return [];
  const text = execFileSync(PYTHON, ['-c', REFERENCE], {
    input: JSON.stringify(questions),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return JSON.parse(text) as (string | null)[];
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * inet_pton for each text: the family it parses as (IPv4 tried first) and its
 * 16 bytes (IPv4 in the first four), or undefined where both refuse it.
 */
export function libcParse(texts: string[]): ({ family: Family; bytes: Uint8Array } | undefined)[] {
  const answers = ask(
    texts.flatMap((t): Question[] => [
      ['pton', 'inet', t],
      ['pton', 'inet6', t],
    ]),
  );
  return texts.map((_, i) => {
    const [v4, v6] = [answers[2 * i], answers[2 * i + 1]];
    const found =
      v4 != null ? { family: 'inet' as const, h: v4 } : v6 != null ? { family: 'inet6' as const, h: v6 } : undefined;
    if (!found) return undefined;
    const bytes = new Uint8Array(16);
    bytes.set(Buffer.from(found.h, 'hex'));
    return { family: found.family, bytes };
  });
}

/** inet_ntop of each address (4 bytes used of an IPv4 one). */
export function libcFormat(addresses: { family: Family; bytes: Uint8Array }[]): string[] {
  const answers = ask(
    addresses.map(({ family, bytes }): Question => [
      'ntop',
      family,
      hex(family === 'inet' ? bytes.subarray(0, 4) : bytes),
    ]),
  );
  return answers.map((a, i) => {
    if (a == null) throw new Error(`inet_ntop refused ${hex(addresses[i]!.bytes)}`);
    return a;
  });
}
