/**
 * How a text file's first bytes say it is UTF-16, for the readers of the files a user hands
 * Phenoface (manifests, embeddings files): Windows tools save "Unicode" text as UTF-16, with or
 * without a byte-order mark.
 */

/**
 * The UTF-16 byte order that a file's first two bytes open: a byte-order mark, or (a tool that
 * writes none) an ASCII character beside a NUL byte, as a manifest's `p` or a JSON line's `{` is
 * in either order. UTF-8 text never holds a NUL there. Undefined for any other start.
 */
export function utf16ByteOrder(b0: number | undefined, b1: number | undefined): 'utf-16le' | 'utf-16be' | undefined {
  if (b0 === undefined || b1 === undefined) return undefined;
  const ascii = (b: number) => b > 0 && b < 0x80;
  if ((b0 === 0xff && b1 === 0xfe) || (ascii(b0) && b1 === 0)) return 'utf-16le';
  if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0 && ascii(b1))) return 'utf-16be';
  return undefined;
}
