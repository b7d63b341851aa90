/** HPO terms are never attached to the regions of a photo that scored below the model's threshold. */
import { describe, expect, it } from 'vitest';
import { withoutFindingsBelowThreshold } from '../../../src/workflows/screen/screener.ts';

describe('withoutFindingsBelowThreshold', () => {
  const fields = { cam: 'contrastive', regions: [{ name: 'perinasal', share: 0.38, hpo: ['HP:0000414 bulbous nose'] }, { name: 'perioral', share: 0.2, hpo: [] }] };

  it('drops the HPO terms of every region below the threshold, and keeps the shares', () => {
    const out = withoutFindingsBelowThreshold(fields, 0.02, 0.5);
    expect(out.regions).toEqual([{ name: 'perinasal', share: 0.38 }, { name: 'perioral', share: 0.2 }]);
    expect(out.cam).toBe('contrastive');
  });

  it('keeps them at or above the threshold', () => {
    expect(withoutFindingsBelowThreshold(fields, 0.5, 0.5)).toBe(fields);
  });
});
