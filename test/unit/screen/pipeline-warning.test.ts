/**
 * A bundle trained on photos processed by another pipeline version (aligned or landmarked
 * otherwise) reads embeddings of another kind: `screen` says so in `model.warnings`.
 */
import { describe, expect, it } from 'vitest';
import { PIPELINE_VERSION } from '../../../src/pipeline/pipeline.ts';
import { pipelineWarnings } from '../../../src/workflows/screen/screener.ts';

describe('pipelineWarnings', () => {
  it('warns when the bundle names another pipeline version, and only then', () => {
    const [warning, ...rest] = pipelineWarnings({ pipeline: { version: 'decode1-mtcnn2-choice2-arcface112-pose2-old', config: {} } });
    expect(rest).toEqual([]);
    expect(warning).toContain('decode1-mtcnn2-choice2-arcface112-pose2-old');
    expect(warning).toContain(PIPELINE_VERSION);
    expect(warning).toMatch(/re-run the study/);
    expect(pipelineWarnings({ pipeline: { version: PIPELINE_VERSION, config: {} } })).toEqual([]);
    // A bundle that records no pipeline cannot be compared.
    expect(pipelineWarnings({} as never)).toEqual([]);
  });
});
