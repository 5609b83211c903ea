// Checks on caller input. They throw TypeError (wrong kind of value) or
// RangeError (a value out of range) naming the field, before anything is sent,
// so a bad call never changes the kernel's table. Each carries a `code` as
// Node's own argument errors do: ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, and
// ERR_INVALID_ARG_VALUE for a field that is not known at all.

/** A value of the wrong kind: TypeError, code ERR_INVALID_ARG_TYPE. */
export function invalidType(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A value out of its range (or not one of the allowed ones): RangeError, code ERR_OUT_OF_RANGE. */
export function outOfRange(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

/** A field or value that is not known at all: TypeError, code ERR_INVALID_ARG_VALUE. */
export function invalidValue(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}
export function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidType(`${field} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw outOfRange(`${field} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Whether `value` is an integer from `min` to `max` (integer() without its error, for the short ways). */
export const within = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

export function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw (typeof value === 'string' ? outOfRange : invalidType)(
      `${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/** A NUL-free name of 1..maxLength characters (kernel names are C strings in fixed buffers). */
export function name(field: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string') throw invalidType(`${field} must be a string, got ${describe(value)}`);
  const bytes = Buffer.byteLength(value);
  if (bytes === 0 || bytes > maxLength || value.includes('\0')) {
    throw outOfRange(`${field} must be 1 to ${maxLength} characters without NUL, got ${describe(value)}`);
  }
  return value;
}

export function object(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidType(`${field} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

/**
 * The field names of every member of a union (`keyof` of a union keeps only
 * the shared ones). `Object.keys({ ... } satisfies Record<FieldOf<T>, true>)`
 * lists them for knownKeys with the compiler checking none is missing or extra.
 */
export type FieldOf<T> = T extends unknown ? keyof T & string : never;

/**
 * Refuses a key of `value` that is not in `allowed` (a misspelt option would
 * otherwise be dropped without a word): TypeError naming the key and the
 * fields the object has. Keys whose value is undefined are ignored.
 */
export function knownKeys(field: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  // for…in, not Object.keys: no array per object (documents hold tens of
  // thousands); own keys only, as Object.keys gives them.
  for (const key in value) {
    if (value[key] !== undefined && !allowed.includes(key) && Object.hasOwn(value, key)) {
      throw invalidValue(`${field}.${key} is not a field of ${field} (it has ${allowed.join(', ')})`);
    }
  }
}

/**
 * The fields an info reports and a spec ignores (counters, flag words,
 * connection counts): accepted so that an info passes back, but only of the
 * kind the info gives them, so that a malformed object is not taken for one.
 */
export function observedFields(
  field: string,
  value: Record<string, unknown>,
  kinds: Readonly<Record<string, 'count' | 'object'>>,
): void {
  // for…in, not Object.entries: this runs for every entry of large documents.
  for (const key in kinds) {
    const kind = kinds[key];
    const v = value[key];
    if (v === undefined) continue;
    if (kind === 'object') object(`${field}.${key}`, v);
    else integer(`${field}.${key}`, v, 0, 2 ** 32 - 1);
  }
}
