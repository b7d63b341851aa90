/**
 * A small reader for gzipped tar archives (npm package tarballs): POSIX ustar headers with the
 * `prefix` field, plus pax (`x`) and GNU (`L`) long names, which is all `npm pack` writes.
 * Node has zlib but no tar; the system `tar` is not on every machine (Windows).
 */
import { gunzipSync } from 'node:zlib';
import { PhenofaceError } from '../../errors.ts';

const BLOCK = 512;

function field(block: Uint8Array, start: number, length: number): string {
  const bytes = block.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(block: Uint8Array, start: number, length: number): number {
  const text = field(block, start, length).trim();
  return text ? parseInt(text, 8) : 0;
}

/** The `path` record of a pax extended header, if any. */
function paxPath(data: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(data);
  for (const line of text.split('\n')) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Regular files of a `.tgz`, keyed by their path inside the archive (e.g. `package/package.json`).
 * With `wanted`, only those paths are kept.
 * @throws PhenofaceError `E_MODEL` when the bytes are not a gzipped tar archive.
 */
export function readTarGz(gz: Uint8Array, wanted?: ReadonlySet<string>): Map<string, Uint8Array> {
  let tar: Uint8Array;
  try {
    tar = gunzipSync(gz);
  } catch (cause) {
    throw new PhenofaceError('E_MODEL', `Not a gzip archive (${gz.length} bytes): ${(cause as Error).message}`, { cause });
  }
  const files = new Map<string, Uint8Array>();
  let longName: string | undefined;
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 48);
    const body = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    if (body.length !== size) throw new PhenofaceError('E_MODEL', `Truncated tar archive: entry at byte ${offset} declares ${size} bytes, ${body.length} remain.`);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') longName = paxPath(body) ?? longName;
    else if (type === 'L') longName = field(body, 0, body.length);
    else {
      const prefix = field(header, 345, 155);
      const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      longName = undefined;
      if ((type === '0' || type === '7') && (!wanted || wanted.has(name))) files.set(name, new Uint8Array(body)); // a copy: Buffer#slice would share the archive
    }
  }
  return files;
}
