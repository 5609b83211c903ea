// What the property tests of the validators' short ways (plainServiceToRaw,
// plainDestinationToRaw) hold them to: the facade's converter.
import { expect } from 'vitest';

/** What the facade's converter makes of a spec, or the error it throws. */
export function converted<T>(convert: () => T): { raw?: T; error?: Error } {
  try {
    return { raw: convert() };
  } catch (e) {
    return { error: e as Error };
  }
}

/** A short way's result is the facade's: accepted there too, the same raw structure, field for field and in order. */
export function expectFacadeAgrees<T extends object>(plain: T, expected: { raw?: T; error?: Error }): void {
  expect(expected.error).toBeUndefined();
  expect(plain).toStrictEqual(expected.raw);
  expect(Object.keys(plain)).toEqual(Object.keys(expected.raw!));
}
