import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/models.ts';
import { modelTarballPath } from '../../../src/runtime/build/install.ts';
import { MODEL_NAMES } from '../../../src/runtime/models.ts';
import { memoryIO } from '../../support/io.ts';

/** The package tarballs `models build` fetched into this checkout (copied here instead of downloading). */
const tarballs = [...new Set(MODEL_NAMES.map((n) => modelTarballPath(n)))];
const root = mkdtempSync(join(tmpdir(), 'phenoface-cli-models-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('phenoface models', () => {
  it('rejects a missing or unknown action with E_USAGE naming the allowed ones', async () => {
    await expect(run([], memoryIO())).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('Should be one of: build, list') });
    await expect(run(['fetch'], memoryIO())).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('Unknown action "fetch"') });
    await expect(run(['list', '--bogus'], memoryIO())).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('list reports models that are not built yet, and refuses a folder that does not exist', async () => {
    mkdirSync(join(root, 'empty-models'), { recursive: true });
    const io = memoryIO(root);
    expect(await run(['list', '--dir', 'empty-models'], io)).toBe(0);
    expect(io.stdout.trim().split('\n')).toEqual(MODEL_NAMES.map((n) => `${n}: not in the manifest (run \`phenoface models build\`)`));
    await expect(run(['list', '--dir', 'nothing-here'], memoryIO(root))).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('Models folder "nothing-here" does not exist') });
  });

  it.skipIf(!tarballs.every((t) => existsSync(t)))('build converts from the cached tarball, is silent with --quiet-if-ready once built, and list shows the result', async () => {
    mkdirSync(join(root, 'm', '.cache'), { recursive: true });
    for (const t of tarballs) copyFileSync(t, join(root, 'm', '.cache', basename(t)));
    const first = memoryIO(root);
    expect(await run(['build', '--quiet-if-ready', '--dir', 'm'], first)).toBe(0);
    expect(first.stdout).toBe(`models in ${join(root, 'm')}: built ${MODEL_NAMES.join(', ')}\n`);
    expect(first.stderr).toContain('models: converting pnet (pnet.tflite) to ONNX');

    const again = memoryIO(root);
    expect(await run(['build', '--quiet-if-ready', '--dir', 'm'], again)).toBe(0);
    expect(again.stdout + again.stderr).toBe('');

    const list = memoryIO(root);
    expect(await run(['list', '--json', '--dir', 'm'], list)).toBe(0);
    const [json] = list.lines();
    expect(json.contract).toBe(1);
    expect(Object.fromEntries(Object.entries(json.models).map(([n, m]) => [n, (m as { status: string }).status]))).toEqual(Object.fromEntries(MODEL_NAMES.map((n) => [n, 'ready'])));

    const text = memoryIO(root);
    await run(['list', '--dir', 'm'], text);
    expect(text.stdout).toContain('onet (ready): MTCNN O-Net');
    expect(text.stdout).toContain('image[N,3,48,48] -> prob[N,2] reg[N,4] landmarks[N,10]; input (x - 127.5) * 0.0078125, RGB');
  });
});
