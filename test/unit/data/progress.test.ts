import { describe, expect, it } from 'vitest';
import type { EmbedProgress } from '../../../src/data/embed-dataset.ts';
import { formatDuration, formatProgressLine, ProgressCounter, ProgressReporter } from '../../../src/data/progress.ts';

const step = (done: number, total: number, extra: Partial<EmbedProgress> = {}): EmbedProgress => ({
  phase: 'embed',
  done,
  total,
  cached: 0,
  failed: 0,
  elapsedSec: done,
  ratePerSec: 1,
  etaSec: total - done,
  ...extra,
});

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, sink: { isTTY, columns: 120, err: (t: string) => void out.push(t) } };
}

describe('ProgressReporter without a terminal', () => {
  it('prints a line every 5% of the work, and the final state once', () => {
    const { out, sink: s } = sink(false);
    let clock = 0;
    const reporter = new ProgressReporter(s, 'study', () => clock);
    for (let done = 0; done <= 200; done++) {
      reporter.update(step(done, 200));
      clock += 1000;
    }
    reporter.stop();
    expect(out).toHaveLength(20); // 10, 20, ..., 200
    expect(out[0]).toBe('study embed 10/200 (5%), 1.0 photos/s, ETA 3m 10s\n');
    expect(out[19]).toBe('study embed 200/200 (100%), 1.0 photos/s, ETA 0s\n');
    expect(out.every((l) => !l.includes('\r') && !l.includes('\x1b'))).toBe(true);
  });

  it('prints a line every 10 s when the work is slow, whatever the share done', () => {
    const { out, sink: s } = sink(false);
    let clock = 0;
    const reporter = new ProgressReporter(s, 'study', () => clock);
    reporter.update(step(0, 1000));
    for (let done = 1; done <= 10; done++) {
      clock += 4000; // 4 s per photo: 1% per 4 s
      reporter.update(step(done, 1000));
    }
    // Lines at 12 s (done 3), 24 s (done 6), 36 s (done 9).
    expect(out.map((l) => l.split(' ')[2])).toEqual(['3/1000', '6/1000', '9/1000']);
  });

  it('prints only the final line of a phase that is over within a second', () => {
    const { out, sink: s } = sink(false);
    let clock = 0;
    const reporter = new ProgressReporter(s, 'x', () => clock);
    for (let done = 0; done <= 500; done++) {
      reporter.update(step(done, 500, { phase: 'hash' }));
      clock += 1; // 1 ms per photo
    }
    expect(out).toEqual(['x hash 500/500 (100%), 1.0 photos/s, ETA 0s\n']);
  });

  it('starts afresh for a new phase', () => {
    const { out, sink: s } = sink(false);
    let clock = 0;
    const reporter = new ProgressReporter(s, 'x', () => (clock += 1000));
    for (let done = 0; done <= 2; done++) reporter.update(step(done, 2, { phase: 'hash' }));
    for (let done = 0; done <= 2; done++) reporter.update(step(done, 2, { cached: 5, failed: 1 }));
    expect(out).toEqual(['x hash 1/2 (50%), 1.0 photos/s, ETA 1s\n', 'x hash 2/2 (100%), 1.0 photos/s, ETA 0s\n', 'x embed 1/2 (50%), 1.0 photos/s, ETA 1s, 5 cached, 1 failed\n', 'x embed 2/2 (100%), 1.0 photos/s, ETA 0s, 5 cached, 1 failed\n']);
  });
});

describe('ProgressReporter on a terminal', () => {
  it('draws a cli-progress bar that redraws in place, with rate and ETA, and ends the line on stop', () => {
    const { out, sink: s } = sink(true);
    const reporter = new ProgressReporter(s, 'study');
    reporter.update(step(0, 50));
    reporter.update(step(25, 50, { ratePerSec: 2.5, etaSec: 10 }));
    reporter.stop();
    const text = out.join('');
    expect(text).toContain("\u001b["); // cursor movement / line clearing: a redraw, not new lines
    expect(text).toMatch(/study embed \[=+-+\] 50% 25\/50 \| 2\.5 photos\/s \| ETA 10s/);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').length).toBeLessThanOrEqual(3);
  });
});

describe('formatting', () => {
  it('formats durations', () => {
    expect([formatDuration(undefined), formatDuration(Infinity), formatDuration(4.4), formatDuration(65), formatDuration(3600 * 2 + 180 + 9)]).toEqual(['?', '?', '4s', '1m 05s', '2h 03m']);
  });

  it('formats a line with unknown ETA before the first photo', () => {
    expect(formatProgressLine('s', step(0, 10, { ratePerSec: 0, etaSec: undefined }))).toBe('s embed 0/10 (0%), 0.0 photos/s, ETA ?');
  });
});

describe('ProgressCounter', () => {
  it('counts ticks into the reporter lines, with the label alone for a batch without phases, and ends at the last item', () => {
    const { sink: s, out } = sink(false);
    let clock = 0;
    const counter = new ProgressCounter(s, 'detect', 4, true, () => clock);
    for (let i = 0; i < 4; i++) {
      clock += 20_000;
      counter.tick();
    }
    expect(out).toEqual(['detect 2/4 (50%), 0.1 photos/s, ETA 40s\n', 'detect 3/4 (75%), 0.1 photos/s, ETA 20s\n', 'detect 4/4 (100%), 0.1 photos/s, ETA 0s\n']);
  });

  it('reaches the final count when the first item is the last, and names what it counts', () => {
    const { sink: s, out } = sink(false);
    let clock = 0;
    const counter = new ProgressCounter(s, 'study cross-validation', 1, true, () => clock, 'fits', -2000);
    clock += 2000;
    counter.advanceTo(1);
    expect(out).toEqual(['study cross-validation 1/1 (100%), 0.3 fits/s, ETA 0s\n']);
  });

  it('prints nothing when disabled', () => {
    const { sink: s, out } = sink(false);
    const counter = new ProgressCounter(s, 'embed', 3, false);
    for (let i = 0; i < 3; i++) counter.tick();
    expect(out).toEqual([]);
  });
});
