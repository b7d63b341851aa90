/**
 * A vitest reporter that ends the run with the plain line `N passed, N failed, N skipped`, counted
 * from the runner's own results, so a run that executed no test is visible in CI's log.
 */
import type { Reporter, File, Task } from 'vitest';

/** Passed, failed and skipped tests under `tasks`, a suite whose own failure left its tests unrun counting as one failure. */
export function count(tasks: Task[], acc = { passed: 0, failed: 0, skipped: 0 }) {
  for (const t of tasks) {
    if (t.type === 'suite') {
      count(t.tasks, acc);
      // A suite that failed to load, or whose own hook (beforeAll, afterAll) failed: its tests then
      // never ran and are reported as skipped, so the suite's failure is counted here.
      if (t.result?.state === 'fail' && (t.tasks.length === 0 || (t.result.errors?.length ?? 0) > 0)) acc.failed++;
    } else if (t.mode === 'skip' || t.mode === 'todo' || t.result?.state === 'skip') acc.skipped++;
    else if (t.result?.state === 'pass') acc.passed++;
    else if (t.result?.state === 'fail') acc.failed++;
  }
  return acc;
}

export default class SummaryReporter implements Reporter {
  onFinished(files: File[] = [], errors: unknown[] = []): void {
    const c = count(files);
    for (const f of files) if (f.result?.state === 'fail' && f.tasks.length === 0) c.failed++;
    if (errors.length) c.failed += errors.length;
    process.stdout.write(`\n${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`);
  }
}
