// The command-line grammar ipvsadm gets from popt: short options bundled
// (`-Ln`) or with an attached argument (`-t1.2.3.4:80`, `-t=…`), long options
// exact (never abbreviated) with `--opt value` or `--opt=value`, an optional
// argument taken from the next word only when it does not start with `-`,
// `--` ending the options, and non-option words kept as leftovers wherever
// they appear. Errors name the whole argv word, as poptBadOption does.

export type ArgKind = 'none' | 'required' | 'optional';

export interface OptionDef {
  /** What the parser switches on. */
  readonly key: string;
  readonly long?: string;
  readonly short?: string;
  readonly arg: ArgKind;
}

export type PoptError = 'unknown option' | 'missing argument' | 'option does not take an argument';

export type PoptEvent =
  | { kind: 'option'; def: OptionDef; arg: string | undefined; word: string }
  | { kind: 'error'; error: PoptError; word: string }
  | { kind: 'end' };

export class Popt {
  readonly #argv: readonly string[];
  readonly #byLong = new Map<string, OptionDef>();
  readonly #byShort = new Map<string, OptionDef>();
  /** Index of the next argv word. */
  #next: number;
  /** The rest of a bundle of short options still to read (`n` of `-Ln`). */
  #bundle: string | undefined;
  #rest = false;
  readonly #leftovers: string[] = [];
  #leftoverAt = 0;

  /** `argv[0]` is the program name and is skipped. */
  constructor(table: readonly OptionDef[], argv: readonly string[]) {
    for (const def of table) {
      if (def.long !== undefined) this.#byLong.set(def.long, def);
      if (def.short !== undefined) this.#byShort.set(def.short, def);
    }
    this.#argv = argv;
    this.#next = 1;
  }

  /** The argv word the last event came from (poptBadOption). */
  get lastWord(): string {
    return this.#argv[this.#next - 1] ?? '';
  }

  next(): PoptEvent {
    for (;;) {
      if (this.#bundle !== undefined) return this.#short();
      if (this.#next >= this.#argv.length) return { kind: 'end' };
      const word = this.#argv[this.#next++]!;
      if (this.#rest || !word.startsWith('-') || word === '-') {
        this.#leftovers.push(word);
        continue;
      }
      if (word === '--') {
        this.#rest = true;
        continue;
      }
      if (word.startsWith('--')) return this.#long(word);
      this.#bundle = word.slice(1);
    }
  }

  /** The next leftover word, in order (poptGetArg). */
  nextArg(): string | undefined {
    return this.#leftovers[this.#leftoverAt++];
  }

  #long(word: string): PoptEvent {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const def = this.#byLong.get(name);
    if (!def) return { kind: 'error', error: 'unknown option', word };
    const attached = eq < 0 ? undefined : word.slice(eq + 1);
    if (def.arg === 'none') {
      if (attached !== undefined) return { kind: 'error', error: 'option does not take an argument', word };
      return { kind: 'option', def, arg: undefined, word };
    }
    if (attached !== undefined) return { kind: 'option', def, arg: attached, word };
    return this.#following(def, word);
  }

  #short(): PoptEvent {
    const bundle = this.#bundle!;
    this.#bundle = undefined;
    const word = this.lastWord;
    const def = this.#byShort.get(bundle[0]!);
    if (!def) return { kind: 'error', error: 'unknown option', word };
    const rest = bundle.slice(1);
    if (def.arg === 'none') {
      if (rest.startsWith('=')) return { kind: 'error', error: 'option does not take an argument', word };
      if (rest !== '') this.#bundle = rest;
      return { kind: 'option', def, arg: undefined, word };
    }
    if (rest !== '') return { kind: 'option', def, arg: rest.startsWith('=') ? rest.slice(1) : rest, word };
    return this.#following(def, word);
  }

  /** An argument from the next argv word. */
  #following(def: OptionDef, word: string): PoptEvent {
    if (this.#next >= this.#argv.length) {
      if (def.arg === 'required') return { kind: 'error', error: 'missing argument', word };
      return { kind: 'option', def, arg: undefined, word };
    }
    const candidate = this.#argv[this.#next]!;
    if (def.arg === 'optional' && candidate.startsWith('-')) return { kind: 'option', def, arg: undefined, word };
    this.#next++;
    return { kind: 'option', def, arg: candidate, word };
  }
}
