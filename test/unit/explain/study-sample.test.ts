import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/pipeline/pipeline.ts';
import { alignSample } from '../../../src/workflows/study/explanation.ts';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.create({ detectOnly: true });
});
afterAll(() => pipeline.close());

describe("the study explanation's sample", () => {
  it('lists a photo that cannot be read again by its manifest path, in its error too, never by the path opened', async () => {
    const abs = path.join(os.tmpdir(), 'phenoface-gone', 'img', 'a.jpg');
    const failed: { path: string; error: { code: string; message: string } }[] = [];
    const face = { box: { x: 0, y: 0, width: 10, height: 10 }, score: 1, landmarks5: [[1, 1], [2, 1], [1.5, 2], [1, 3], [2, 3]] as [number, number][] } as never;
    const aligned = await alignSample(pipeline, [{ path: 'img/a.jpg', abs, subject: 's1', y: 1, face }], failed);
    expect(aligned).toEqual([undefined]);
    expect(failed).toHaveLength(1);
    expect(failed[0].path).toBe('img/a.jpg');
    expect(failed[0].error.message).toContain('img/a.jpg');
    expect(failed[0].error.message).not.toContain(abs);
  });
});
