/**
 * Whole-image resizing in libvips (through sharp), for the reduced copy of a large photo that the
 * embedding path searches for faces first (see `detect.choiceSearchSidePx`). libvips shrinks by the
 * integer part of the ratio with a box filter and reduces the rest with a Lanczos-3 kernel, off the
 * JavaScript thread, in a few milliseconds for a 1920 px photo.
 */
import sharp from 'sharp';
import type { RgbImage } from '../types.ts';
import { assertRgbImage } from './resample.ts';
import { PhenofaceError } from '../errors.ts';

/**
 * Resizes an interleaved 8-bit RGB image to exactly `width` x `height`.
 * @throws PhenofaceError `E_INPUT` when the image is malformed or a size is not a positive integer.
 */
export async function resizeImage(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  assertRgbImage(img, 'resizeImage image');
  for (const [what, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new PhenofaceError('E_INPUT', `Invalid resizeImage ${what}: ${v}. Expected a positive integer.`);
  }
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
