import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIO } from '../support/io.ts';

describe('phenoface main', () => {
  it('lists the commands with --help and exits 0', async () => {
    const io = memoryIO();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.stdout).toMatch(/Commands:/);
    for (const c of ['detect', 'embed', 'study', 'screen', 'synth', 'demo', 'serve', 'models']) expect(io.stdout).toContain(`  ${c}`);
  });
  it('exits 2 without a command', async () => {
    expect(await main([], memoryIO())).toBe(2);
  });
  it('exits 2 for an unknown command and names the allowed set', async () => {
    const io = memoryIO();
    expect(await main(['dtect'], io)).toBe(2);
    expect(io.stderr).toMatch(/E_USAGE: unknown command "dtect". Should be one of: detect, embed/);
  });
  it('exits 2 for a command named like a built-in property, as for any unknown one', async () => {
    for (const name of ['constructor', 'toString', '__proto__']) {
      const io = memoryIO();
      expect(await main([name], io), io.stderr).toBe(2);
      expect(io.stderr).toContain(`E_USAGE: unknown command "${name}"`);
    }
  });
  it('exits 2 for an unknown option, naming it', async () => {
    const io = memoryIO();
    expect(await main(['detect', '--frobnicate', 'x.jpg'], io)).toBe(2);
    expect(io.stderr).toMatch(/E_USAGE: Unknown option "--frobnicate"\. Should be one of: --json, .*--help\. A file whose name starts with "-" goes after --, as in: -- --frobnicate\n/);
    const study = memoryIO();
    expect(await main(['study', '--frobnicate'], study)).toBe(2);
    expect(study.stderr).not.toMatch(/goes after --/); // study reads no file from the command line
  });
  it('study: exits 2 for a stray argument beside the data set, naming it', async () => {
    for (const argv of [['study', 'stray.csv', '--manifest', 'm.csv', '--out', 'o'], ['study', 'm.csv', 'stray.csv', '--out', 'o'], ['study', '--manifest', 'm.csv', '--out', 'o', '--', 'stray.csv']]) {
      const io = memoryIO();
      expect(await main(argv, io)).toBe(2);
      expect(io.stderr).toMatch(/E_USAGE: Unexpected argument "stray\.csv"/);
    }
  });
  it('exits 2 when detect gets no inputs', async () => {
    const io = memoryIO();
    expect(await main(['detect', '--json'], io)).toBe(2);
    expect(io.stderr).toMatch(/No images or folders given/);
  });
  it('screen: exits 2 for --cam without --explain and for an unknown map, naming the allowed ones', async () => {
    const io = memoryIO();
    expect(await main(['screen', 'x.jpg', '--model', 'm', '--cam', 'gradcam'], io)).toBe(2);
    expect(io.stderr).toMatch(/--cam chooses the map of --explain/);
    const io2 = memoryIO();
    expect(await main(['screen', 'x.jpg', '--model', 'm', '--explain', 'out', '--cam', 'lime'], io2)).toBe(2);
    expect(io2.stderr).toMatch(/Unknown explanation map: "lime". Should be one of: contrastive, hirescam, gradcam, gradcam-14x14/);
  });
  it('exits 2 for an out-of-range number', async () => {
    const io = memoryIO();
    expect(await main(['detect', 'x.jpg', '--min-face', '3'], io)).toBe(2);
    expect(io.stderr).toMatch(/Invalid --min-face: "3"/);
  });
  it('exits 2 for a --min-face that is not a whole number of pixels, or is huge', async () => {
    for (const v of ['20.5', '1e9', '-20', '0']) {
      const io = memoryIO();
      expect(await main(['detect', 'x.jpg', `--min-face=${v}`], io), v).toBe(2);
      expect(io.stderr).toContain(`Invalid --min-face: "${v}". Should be an integer in [12, 10000].`);
    }
  });
  it('reads numbers as decimals only: hexadecimal, binary, octal and trailing text are refused', async () => {
    for (const v of ['0x20', '0b10100', '0o24', '20px', 'Infinity', '.', '1e']) {
      const io = memoryIO();
      expect(await main(['detect', 'x.jpg', `--min-face=${v}`], io), v).toBe(2);
      expect(io.stderr).toContain(`Invalid --min-face: "${v}"`);
    }
    for (const v of ['20', '+20', '2e1', '20.0', '2.0E1']) {
      const io = memoryIO();
      expect(await main(['detect', 'missing.jpg', '--json', `--min-face=${v}`], io), v).not.toBe(2);
    }
  });
});
