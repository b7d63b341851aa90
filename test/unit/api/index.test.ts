/** The public API that `package.json` promises (`main: src/index.ts`) loads and exposes each stage and workflow. */
import { describe, expect, it } from 'vitest';
import * as phenoface from '../../../src/index.ts';

describe('src/index.ts', () => {
  it('exports the stages, the pipeline, the workflows, the config and the typed errors', () => {
    for (const name of ['decodeImage', 'alignFace', 'estimatePose', 'l2normalize', 'Pipeline', 'PipelinePool', 'loadDataset', 'readEmbeddingFile', 'validateBySite', 'loadBundle', 'runStudy', 'Screener', 'screenEmbeddings', 'synthesize', 'ensureModels', 'loadModel', 'resolveConfig', 'PhenofaceError']) {
      expect(typeof (phenoface as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(phenoface.DEFAULTS.detect.minFaceSizePx).toBe(20);
    expect(new phenoface.PhenofaceError('E_INPUT', 'x').code).toBe('E_INPUT');
  });
});
