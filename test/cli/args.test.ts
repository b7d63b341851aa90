import { describe, expect, it } from 'vitest';
import { parseCommand, type ArgDef, type CommandDef } from '../../src/cli/args.ts';
import { DEMO } from '../../src/cli/demo.ts';
import { DETECT } from '../../src/cli/detect.ts';
import { EMBED } from '../../src/cli/embed.ts';
import { main } from '../../src/cli/main.ts';
import { MODELS } from '../../src/cli/models.ts';
import { SCREEN } from '../../src/cli/screen.ts';
import { SERVE } from '../../src/cli/serve.ts';
import { STUDY } from '../../src/cli/study.ts';
import { SYNTH } from '../../src/cli/synth.ts';
import { memoryIO } from '../support/io.ts';

const COMMANDS: CommandDef<Record<string, ArgDef>>[] = [DEMO, DETECT, EMBED, MODELS, SCREEN, SERVE, STUDY, SYNTH];

/** The E_USAGE message `parseCommand` throws for `argv`, or undefined when it parses. */
function usageMessage(def: CommandDef<Record<string, ArgDef>>, argv: string[]): string | undefined {
  try {
    parseCommand(def, argv);
    return undefined;
  } catch (err) {
    expect((err as { code?: string }).code).toBe('E_USAGE');
    return (err as Error).message;
  }
}

describe('parseCommand', () => {
  it('refuses an empty value for every text option of every command, naming the option', () => {
    for (const def of COMMANDS) {
      for (const [name, a] of Object.entries(def.args)) {
        if (a.type === 'boolean') continue;
        for (const argv of [[`--${name}`, ''], [`--${name}=`]]) {
          const message = usageMessage(def, argv);
          expect(message, `${def.name} ${argv.join(' ')}`).toBeDefined();
          expect(message).toContain(`${a.label ?? `--${name}`}: ""`);
        }
      }
    }
  });
  it('study --positive "" is a usage error (exit 2), not a bad input', async () => {
    const io = memoryIO();
    expect(await main(['study', '--manifest', 'missing.csv', '--out', 'o', '--positive', ''], io)).toBe(2);
    expect(io.stderr).toContain('E_USAGE: Invalid --positive: "". Should be a non-empty CLASS.');
    const spaces = memoryIO();
    expect(await main(['study', '--manifest', 'm.csv', '--out', 'o', '--positive', '  '], spaces)).toBe(2);
    expect(spaces.stderr).toContain('E_USAGE: Invalid --positive: "  ". Should be a non-empty CLASS.');
  });
  it('refuses an option given twice with different values, by either of its names, and names both values', async () => {
    expect(usageMessage(STUDY, ['--out', 'a', '--out', 'b'])).toContain('--out is given twice: "a" and "b".');
    expect(usageMessage(STUDY, ['-o', 'a', '--out=b'])).toContain('--out is given twice: "a" and "b".');
    expect(usageMessage(STUDY, ['--folds', '3', '--folds', '5'])).toContain('--folds is given twice: "3" and "5".');
    const io = memoryIO();
    expect(await main(['study', '--manifest', 'missing.csv', '--out', 'a', '--out', 'b'], io)).toBe(2);
    expect(io.stderr).toContain('E_USAGE: --out is given twice: "a" and "b".');
  });
  it('accepts an option given twice with the same value, and a flag given twice', () => {
    expect(usageMessage(STUDY, ['--out', 'a', '--out', 'a', '--quiet', '-q', '--frontal-only', '--frontal-only'])).toBeUndefined();
  });
});
