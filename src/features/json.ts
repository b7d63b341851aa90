/**
 * Readers of the plain-JSON records the feature blocks and the measurement norms write into the
 * model bundle. A bundle is a file a user can edit or truncate, so each value is checked and a
 * bad one throws `E_BUNDLE` naming the field and what was expected.
 */
import { PhenofaceError } from '../errors.ts';

/** Reads an array of finite numbers (of `length` when given) as a Float64Array, or throws `E_BUNDLE`. */
export function readNumbers(value: unknown, name: string, length?: number): Float64Array {
  if (!Array.isArray(value) || (length !== undefined && value.length !== length) || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new PhenofaceError('E_BUNDLE', `Invalid feature record: ${name} should be an array of ${length ?? 'some'} finite numbers.`);
  }
  return Float64Array.from(value as number[]);
}

/** Reads an array of positive finite numbers (scales), or throws `E_BUNDLE`. */
export function readScales(value: unknown, name: string, length: number): Float64Array {
  const s = readNumbers(value, name, length);
  if (s.some((v) => !(v > 0))) throw new PhenofaceError('E_BUNDLE', `Invalid feature record: ${name} holds a value <= 0. Expected positive scales.`);
  return s;
}

/** Reads a plain object, or throws `E_BUNDLE`. */
export function readObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PhenofaceError('E_BUNDLE', `Invalid feature record: ${name} is ${JSON.stringify(value)?.slice(0, 60)}. Expected an object.`);
  }
  return value as Record<string, unknown>;
}

/** Population mean and standard deviation of finite values (weights optional; sd 1 when it is 0). */
export function meanAndScale(values: readonly number[], weights?: readonly number[]): { mean: number; scale: number } {
  const w = weights ?? values.map(() => 1);
  const total = w.reduce((s, v) => s + v, 0);
  if (!(total > 0)) return { mean: 0, scale: 1 };
  const mean = values.reduce((s, v, i) => s + w[i] * v, 0) / total;
  const variance = values.reduce((s, v, i) => s + w[i] * (v - mean) ** 2, 0) / total;
  const sd = Math.sqrt(variance);
  return { mean, scale: sd > 1e-12 ? sd : 1 };
}
