/**
 * Numbers as a person types and reads them: options and specifications parsed one way below both
 * `cli/` and `workflows/` (synth's class specification), and signed figures written one way by the
 * CLI, the report and the web app.
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

/**
 * `v` to `digits` decimals with its sign (`+0.41`, `-2.04`), and none where it rounds to zero:
 * "-0.00" or "+0.00" would read as a direction. `minus` is the sign to write (the web app and the
 * report use the typographic minus).
 */
export function signedFixed(v: number, digits: number, minus = '-'): string {
  const text = Math.abs(v).toFixed(digits);
  if (Number(text) === 0) return text;
  return `${v > 0 ? '+' : minus}${text}`;
}

/**
 * `v` rounded to `digits` decimals for a JSON field. A value so large that `v * 10^digits` overflows
 * (beyond about 1e304 for 4 decimals) has no decimals to round and is returned as it is: scaled, it
 * would round to Infinity, which JSON writes as null. -0 comes out as 0.
 */
export function roundTo(v: number, digits: number): number {
  const k = 10 ** digits;
  return Number.isFinite(v * k) ? Math.round(v * k) / k || 0 : v;
}

/**
 * `values` (non-negative, e.g. shares summing to 1) rounded to `digits` decimals so that they keep
 * their sum rounded to the same decimals (largest remainder: the values rounded down, and the units
 * still missing given to those that lost most). Rounded one by one, three shares of 1/3 sum to
 * 0.9999, and a reader checking that shares sum to 1, as the contract says they do, takes that for
 * an error. A larger value never comes out smaller than a smaller one.
 */
export function roundedKeepingSum(values: readonly number[], digits: number): number[] {
  const k = 10 ** digits;
  const scaled = values.map((v) => v * k);
  const units = scaled.map((v) => Math.floor(v));
  let missing = Math.round(scaled.reduce((a, b) => a + b, 0)) - units.reduce((a, b) => a + b, 0);
  const byRemainder = scaled.map((_, i) => i).sort((a, b) => scaled[b] - units[b] - (scaled[a] - units[a]) || a - b);
  for (const i of byRemainder) {
    if (missing <= 0) break;
    units[i]++;
    missing--;
  }
  return units.map((u) => u / k);
}
