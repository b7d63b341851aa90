/**
 * The two-sided 95% quantile of Student's t distribution, for the interval of a mean over a few
 * values (a person's photos): with n values the normal 1.96 covers about 70% (n = 2) or 81%
 * (n = 3) of the time, t with n - 1 degrees of freedom covers 95%.
 */

/** t(0.975, df) for df = 1..30, to four decimals (Fisher & Yates' tables; any statistics text). */
const T975 = [
  12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.306, 2.2622, 2.2281,
  2.201, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.093, 2.086,
  2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];

/** The normal 0.975 quantile. */
const Z975 = 1.959963984540054;

/**
 * t(0.975, df): from the table up to 30 degrees of freedom, beyond by the Cornish-Fisher expansion
 * of t about the normal quantile (Abramowitz & Stegun 26.7.5), within 1e-4 there. E_INPUT-free:
 * `df` must be a positive integer, which its callers guarantee (a count less one).
 */
export function tQuantile975(df: number): number {
  if (df <= T975.length) return T975[df - 1];
  const z = Z975;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2) + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3);
}
