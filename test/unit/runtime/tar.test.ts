import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTarGz } from '../../../src/runtime/build/tar.ts';

/** A ustar header block for a file entry. */
function header(name: string, size: number, type = '0', prefix = ''): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, at: number) => h.set(new TextEncoder().encode(s), at);
  put(name, 0);
  put('0000644\0', 100);
  put(size.toString(8).padStart(11, '0') + '\0', 124);
  put(type, 156);
  put('ustar\0', 257);
  put(prefix, 345);
  return h;
}
const pad = (b: Uint8Array) => {
  const out = new Uint8Array(Math.ceil(b.length / 512) * 512);
  out.set(b);
  return out;
};

describe('readTarGz', () => {
  it('reads files by full path: plain, ustar prefix and pax long names; skips directories and unwanted files', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const long = `package/${'deep/'.repeat(30)}model.bin`;
    const pax = enc(`${long.length + 10} path=${long}\n`);
    const tar = new Uint8Array([
      ...header('package/', 0, '5'),
      ...header('package/a.txt', 5), ...pad(enc('hello')),
      ...header('b.bin', 600, '0', 'package/assets'), ...pad(new Uint8Array(600).fill(7)),
      ...header('PaxHeader', pax.length, 'x'), ...pad(pax),
      ...header('truncated-name', 3), ...pad(enc('abc')),
      ...new Uint8Array(1024),
    ]);
    const files = readTarGz(gzipSync(tar));
    expect([...files.keys()]).toEqual(['package/a.txt', 'package/assets/b.bin', long]);
    expect(new TextDecoder().decode(files.get('package/a.txt'))).toBe('hello');
    expect(files.get('package/assets/b.bin')).toEqual(new Uint8Array(600).fill(7));
    expect(new TextDecoder().decode(files.get(long))).toBe('abc');
    expect([...readTarGz(gzipSync(tar), new Set(['package/a.txt'])).keys()]).toEqual(['package/a.txt']);
  });

  it('refuses non-gzip bytes and truncated archives with E_MODEL', () => {
    expect(() => readTarGz(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: 'E_MODEL' }));
    const truncated = new Uint8Array([...header('x', 2000), ...new Uint8Array(512)]);
    expect(() => readTarGz(gzipSync(truncated))).toThrow(/Truncated tar archive/);
  });
});
