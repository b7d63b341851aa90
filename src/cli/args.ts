/**
 * Argument parsing for every command, over Node's `util.parseArgs`: unknown options and missing
 * values become `E_USAGE` errors (exit code 2) that name the option and the allowed set.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PhenofaceError } from '../errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` against `options`; positionals allowed. Throws E_USAGE with the command's usage line. */
export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new PhenofaceError('E_USAGE', `${(err as Error).message}\nUsage: ${usage}`, { cause: err });
  }
}

/** A usage error naming the problem and the usage line. */
export function usageError(message: string, usage: string): PhenofaceError {
  return new PhenofaceError('E_USAGE', `${message}\nUsage: ${usage}`);
}

/** Parses a number option within [min, max]; E_USAGE otherwise. */
export function numberOption(value: string | undefined, name: string, min: number, max: number, usage: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw usageError(`Invalid --${name}: "${value}". Should be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}].`, usage);
  }
  return n;
}
