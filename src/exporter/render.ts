// The Prometheus text exposition format (0.0.4) of a scrape, written in
// chunks as it goes: a table of 50,000 real servers is tens of megabytes of
// text, which is never held whole. Each entry's labels are made into text
// once per scrape and shared by its families' lines.
import type { Family } from './families.js';
import { entryLabels, labelsOf, walk, type Entry, type LabelMaker } from './series.js';
import type { Metrics, Scrape } from './source.js';

/** A chunk is handed on once it reaches this many characters. */
const CHUNK = 64 * 1024;

/** A label value as the text format escapes it (backslash, double quote, line feed). */
export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** The text format's labels: `name="value"` pairs joined by commas. */
const TEXT: LabelMaker<string> = {
  namespace: (netns) => (netns === undefined ? '' : `netns="${escapeLabel(netns)}"`),
  add(base, names, values) {
    let out = base;
    for (let k = 0; k < values.length; k++) {
      const v = values[k]!;
      if (v === '' && names[k] === 'family') continue;
      out += `${out === '' ? '' : ','}${names[k]}="${escapeLabel(v)}"`;
    }
    return out;
  },
};

/** The text of a scrape's families, in chunks of about 64 KiB. */
export function* render(m: Metrics, s: Scrape): Generator<string, void, undefined> {
  const all = entryLabels(m, s, TEXT);
  let chunk = '';
  let name = '';
  // Chunks that filled up during a family's walk.
  const full: string[] = [];
  const line = (entry: Entry, reading: number, index: number, direction: string | null, value: string) => {
    let labels = labelsOf(all[reading]!, entry, index, '');
    if (direction !== null) labels = labels === '' ? `direction="${direction}"` : `${labels},direction="${direction}"`;
    chunk += labels === '' ? `${name} ${value}\n` : `${name}{${labels}} ${value}\n`;
    if (chunk.length >= CHUNK) {
      full.push(chunk);
      chunk = '';
    }
  };
  for (const f of m.families) {
    name = m.prefix + f.name;
    chunk += header(name, f);
    walk(f, s, line);
    // At most one family's text (about 10 MB for 50,000 real servers) waits here.
    yield* full.splice(0);
  }
  if (chunk !== '') yield chunk;
}

function header(name: string, f: Family): string {
  return `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n`;
}
