/**
 * What decoding one file gave, as one comparable line: the pixels' size and hash when accepted, the
 * error's code and message when refused. Shared by the race test and its worker threads.
 */
import { createHash } from 'node:crypto';
import { decodeImage } from '../../../src/image/decode.ts';
import { PhenofaceError } from '../../../src/errors.ts';

export async function decodeOutcome(file: string): Promise<string> {
  try {
    const img = await decodeImage(file);
    return `accepted ${img.width}x${img.height} ${createHash('sha1').update(img.data).digest('hex')}`;
  } catch (err) {
    return err instanceof PhenofaceError ? `refused ${err.code}: ${err.message}` : `threw ${String(err)}`;
  }
}
