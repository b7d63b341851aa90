/** The CI summary line's counts: a suite whose beforeAll failed must not read as "0 failed". */
import type { Task } from 'vitest';
import { describe, expect, it } from 'vitest';
import { count } from '../../support/summary-reporter.ts';

const test = (state: 'pass' | 'fail' | 'skip', mode: 'run' | 'skip' = 'run') => ({ type: 'test', mode, result: { state } }) as unknown as Task;
const suite = (tasks: Task[], state?: 'pass' | 'fail', errors?: unknown[]) => ({ type: 'suite', mode: 'run', tasks, result: state && { state, errors } }) as unknown as Task;

describe('summary reporter counts', () => {
  it('counts each test once, and a suite only for a failure of its own', () => {
    expect(count([suite([test('pass'), test('fail'), test('skip', 'skip')], 'fail')])).toEqual({ passed: 1, failed: 1, skipped: 1 });
  });

  it('counts a suite whose hook failed (its tests left unrun, reported skipped) as a failure', () => {
    expect(count([suite([test('skip'), test('skip')], 'fail', [new Error('beforeAll')])])).toEqual({ passed: 0, failed: 1, skipped: 2 });
  });

  it('counts a suite that failed to load (no tests) as a failure', () => {
    expect(count([suite([], 'fail')])).toEqual({ passed: 0, failed: 1, skipped: 0 });
  });
});
