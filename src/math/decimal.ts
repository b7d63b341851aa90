/**
 * Numbers typed by a person, as options and specifications hold them. Here, below both `cli/`
 * (options) and `workflows/` (synth's class specification), so that both read numbers one way.
 */

/** Decimal notation: a sign, digits with at most one point, an exponent; surrounding spaces allowed. */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/**
 * The number `text` writes in decimal notation (`0.5`, `-3`, `1e-6`, `.5`), or NaN. `Number()` alone
 * would also read `0x10` as 16, `0b11` as 3 and `0o17` as 15, so a typo's value would be used
 * unannounced; it reads "" as 0. `1e309` is Infinity, which callers refuse as out of range.
 */
export function parseDecimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : NaN;
}
