// Checks on caller input. They throw TypeError (wrong kind of value) or
// RangeError (a value out of range) naming the field, before anything is sent,
// so a bad call never changes the kernel's table.
export function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${field} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${field} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

export function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new (typeof value === 'string' ? RangeError : TypeError)(
      `${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/** A NUL-free name of 1..maxLength characters (kernel names are C strings in fixed buffers). */
export function name(field: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string') throw new TypeError(`${field} must be a string, got ${describe(value)}`);
  const bytes = Buffer.byteLength(value);
  if (bytes === 0 || bytes > maxLength || value.includes('\0')) {
    throw new RangeError(`${field} must be 1 to ${maxLength} characters without NUL, got ${describe(value)}`);
  }
  return value;
}

export function object(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${field} must be an object, got ${describe(value)}`);
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
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined && !allowed.includes(key)) {
      throw new TypeError(`${field}.${key} is not a field of ${field} (it has ${allowed.join(', ')})`);
    }
  }
}
