/**
 * The report's ranked differential: the majority-class baseline names the class it is for at each
 * level (with photos per person varying, the class with the most photos need not have the most
 * people), and top-k of k >= classes, 1 by construction, has no column.
 */
import { describe, expect, it } from 'vitest';
import { rankingMetrics, type RankPrediction } from '../../../src/evaluate/ranking.ts';
import { rankingSection } from '../../../src/report/ranking.ts';

/** `sizes[k]` = [people, photos each] of class k, every photo given the same probabilities. */
function metrics(sizes: [number, number][], labels = ['control', 'vcfs', 'other']) {
  const strata = sizes.map(([people], k) => Array.from({ length: people }, (_, i) => `${labels[k]}${i}`));
  const p = Float64Array.of(0.5, 0.3, 0.2);
  const preds: RankPrediction[] = strata.flatMap((subjects, k) => subjects.flatMap((subject) => Array.from({ length: sizes[k][1] }, (_, photo) => ({
    path: `${subject}/${photo}`, subject, label: k, repeat: 0, fold: 0, probabilities: p, subjectProbabilities: p,
  }))));
  return rankingMetrics(preds, labels, strata, 0, 1);
}

describe('report: ranked differential', () => {
  it('names the majority class of each level when they differ', async () => {
    const { html } = await rankingSection(metrics([[24, 1], [12, 3], [12, 6]]), { description: 'Test.', reference: 'vcfs' });
    expect(html).toContain('Majority class named every time: top-1 54.5% per photo (&ldquo;other&rdquo;, the class with the most photos), 50.0% per person (&ldquo;control&rdquo;, the class with the most people).');
    expect(html).not.toContain('Top-3');
  });

  it('names it once when it is the same class at both levels', async () => {
    const { html } = await rankingSection(metrics([[6, 2], [3, 2], [3, 2]]), { description: 'Test.', reference: 'vcfs' });
    expect(html).toContain('Majority class (&ldquo;control&rdquo; named every time): top-1 50.0% per photo, 50.0% per person.');
  });

  it('charts classes named like built-in properties, in the classes\' order', async () => {
    // Vega compiles "constructor" or "toString" in an expression to a lookup that fails: the names must stay out of them.
    const classes = ['toString', 'constructor', '__proto__'];
    const { html } = await rankingSection(metrics([[6, 2], [3, 2], [3, 2]], classes), { description: 'Test.', reference: 'constructor' });
    const confusion = html.slice(html.indexOf('Confusion per person'));
    const ticks = [...confusion.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).filter((t) => classes.includes(t));
    expect(ticks).toEqual([...classes, ...classes]);
  });
});
