/**
 * Upload checks that need no decoder: the format from the file's first bytes (magic numbers), never
 * from its name or the client's Content-Type, which any client can set to anything.
 */

/** An image format recognised from its magic bytes, with the MIME type and extension it implies. */
export interface SniffedFormat {
  /** sharp's name for the format (`jpeg`, `png`, `webp`, `gif`, `tiff`, `heif`). */
  format: string;
  mime: string;
  ext: string;
}

const ISO_BMFF_IMAGE_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/**
 * The image format of `bytes` from its signature, or `undefined` for anything else (text, PDF,
 * SVG, executables, a truncated header). Signatures: JPEG `FF D8 FF`; PNG `89 'PNG' 0D 0A 1A 0A`;
 * GIF `'GIF87a'`/`'GIF89a'`; WebP `'RIFF' size 'WEBP'`; TIFF `'II' 2A 00`/`'MM' 00 2A`;
 * HEIF/AVIF an ISO-BMFF `ftyp` box whose major brand is an image brand (ISO/IEC 23008-12).
 */
export function sniffImage(bytes: Uint8Array): SniffedFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { format: 'jpeg', mime: 'image/jpeg', ext: 'jpg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { format: 'png', mime: 'image/png', ext: 'png' };
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return { format: 'gif', mime: 'image/gif', ext: 'gif' };
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { format: 'webp', mime: 'image/webp', ext: 'webp' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return { format: 'tiff', mime: 'image/tiff', ext: 'tif' };
  if (bytes.length >= 12 && ascii(bytes, 4, 8) === 'ftyp') {
    const brand = ascii(bytes, 8, 12);
    if (ISO_BMFF_IMAGE_BRANDS.has(brand)) {
      const avif = brand === 'avif' || brand === 'avis';
      return { format: 'heif', mime: avif ? 'image/avif' : 'image/heif', ext: avif ? 'avif' : 'heic' };
    }
  }
  return undefined;
}

/** The accepted formats, for error messages. */
export const ACCEPTED_UPLOADS = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';
