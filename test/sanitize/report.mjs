// Judges the sanitizers' reports of a scripts/sanitize run: one file per
// process in the directory given. Fails (exit 1) on any AddressSanitizer,
// UndefinedBehaviorSanitizer or ThreadSanitizer report, on a sanitizer's
// fatal error, and on any leak whose allocation stack passes through the
// addon (its module, its sources, or libnl, which only the addon calls).
// Other leaks (of Node or of programs the tests start, that the suppressions
// do not name) are counted and named by program, not judged.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const ADDON = /ipvs\.node|\/native\/|libnl-(genl-)?3\.so/;

let failures = 0;
const foreign = new Map();
const files = readdirSync(dir).sort();
for (const name of files) {
  const text = readFileSync(join(dir, name), 'utf8');
  // A leak report is a list of blocks, each a leak and its allocation stack.
  const leaks = text.split(/\n(?=(?:Direct|Indirect) leak of )/).slice(1);
  const errors = text
    .split(/\n(?==+\n==\d+==ERROR|WARNING: ThreadSanitizer|\S+:\d+:\d+: runtime error)/)
    .filter((b) =>
      /==ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:|Sanitizer has encountered a fatal error/.test(
        b,
      ),
    );
  for (const block of errors) {
    failures++;
    console.log(`--- ${name}: error\n${block.trim()}\n`);
  }
  for (const block of leaks) {
    const body = block.split(/\n\s*\n/)[0];
    if (ADDON.test(body)) {
      failures++;
      console.log(`--- ${name}: a leak through the addon\n${body.trim()}\n`);
    } else {
      // The program: the module of the deepest frame that names one.
      const modules = [...body.matchAll(/\(([^()\s]+?)\+0x[0-9a-f]+\)/g)].map((m) => m[1]);
      const program = modules.at(-1) ?? 'unknown';
      foreign.set(program, (foreign.get(program) ?? 0) + 1);
    }
  }
}

for (const [program, count] of foreign) {
  console.log(`${count} leak(s) not through the addon, in ${program} (not judged)`);
}
console.log(
  failures === 0
    ? `no sanitizer report and no leak from the addon (${files.length} report files)`
    : `${failures} sanitizer finding(s) above`,
);
process.exit(failures === 0 ? 0 : 1);
