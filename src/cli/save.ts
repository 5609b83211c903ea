// -S: the table as the command lines that build it again, always sorted,
// names unless -n.
import { LISTING_MODE, saveEntry } from './format.js';
import { printTable } from './kernel.js';
import type { Context, Entry, Outcome } from './types.js';

export function save(e: Entry, ctx: Context): Promise<Outcome> {
  return printTable(ctx, true, e.options.has('numeric'), '', (t, i, dests, names) => saveEntry(t, i, dests, names), {
    mode: LISTING_MODE.save,
  });
}
