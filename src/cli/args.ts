/**
 * Every command declares its options once, as a table of {@link ArgDef}s; its usage line, its
 * help text and its parsing all derive from that table, so help cannot drift from what is parsed.
 * Parsing runs over Node's `util.parseArgs`: unknown options, missing or empty values, an option
 * given twice with different values, numbers out of range and values outside an allowed set become
 * `E_USAGE` errors (exit code 2) that name the bad value and the allowed set.
 */
import { parseArgs } from 'node:util';
import { PhenofaceError } from '../errors.ts';
import { parseDecimal } from '../math/decimal.ts';

/** What an option's value is: a flag, free text, or a number (`integer` refuses fractions). */
export type ArgType = 'boolean' | 'string' | 'number' | 'integer';

/** One option of a command. */
export interface ArgDef {
  type: ArgType;
  /** One line (or a few, separated by `\n`) saying what the option does. */
  description: string;
  /** What the value stands for in the usage line and help, e.g. `DIR`. */
  placeholder?: string;
  /** One-letter alias. */
  short?: string;
  /** The value used when the option is absent, taken from `config.ts`; shown in help. */
  default?: string | number;
  /** Help's wording of the default when it is not a value (e.g. "the PHENOFACE_TOKEN environment variable"). */
  defaultText?: string;
  /** The allowed values, from their registry; a function when the registry is read from disk. */
  values?: readonly string[] | (() => readonly string[]);
  /** Errors name the option this way when it is not `--name` (e.g. "explanation map"). */
  label?: string;
  /** Values are comma-separated items of `values` (checked by the command, which knows the keyword `all`). */
  list?: boolean;
  /** Bounds of a number option, inclusive. */
  min?: number;
  max?: number;
  /** Shown bare in the usage line (the command checks its presence with its own message). */
  required?: boolean;
  /** Already spelled out by the command's synopsis, so the usage line leaves it out. */
  inSynopsis?: boolean;
}

/** A command's table: what `--help` prints and what is parsed. */
export interface CommandDef<A extends Record<string, ArgDef>> {
  /** The subcommand's name (`phenoface <name>`). */
  name: string;
  /** Positionals and alternatives before the options, e.g. `<images or folders...>`. */
  synopsis?: string;
  /** Paragraph(s) printed under the usage line. */
  description?: string;
  args: A;
  /** Text printed after the options (limits, notes). */
  notes?: string;
  /** Command lines shown under "Examples". */
  examples: readonly string[];
}

type ValueOf<D extends ArgDef> = D['type'] extends 'boolean' ? boolean : D['type'] extends 'string' ? string : number;

/** The parsed options: those with a default are always set. */
export type ArgValues<A extends Record<string, ArgDef>> = {
  -readonly [K in keyof A]: A[K] extends { default: string | number } ? ValueOf<A[K]> : ValueOf<A[K]> | undefined;
};

/** Declares a command's table (keeps the literal types the parsed values are typed from). */
export function defineCommand<const A extends Record<string, ArgDef>>(def: CommandDef<A>): CommandDef<A> {
  return def;
}

function allowed(def: ArgDef): readonly string[] | undefined {
  return typeof def.values === 'function' ? def.values() : def.values;
}

function placeholder(name: string, def: ArgDef): string {
  if (def.type === 'boolean') return `--${name}`;
  const values = def.list ? undefined : allowed(def);
  return `--${name} ${def.placeholder ?? (values ? values.join('|') : name.toUpperCase())}`;
}

/** The usage line: `phenoface <name> <synopsis> --required X [--optional Y] ...`. */
export function usageLine(def: CommandDef<Record<string, ArgDef>>): string {
  const options = Object.entries(def.args)
    .filter(([, a]) => !a.inSynopsis)
    .map(([name, a]) => (a.required ? placeholder(name, a) : `[${placeholder(name, a)}]`));
  return ['phenoface', def.name, def.synopsis, ...options].filter(Boolean).join(' ');
}

function defaultOf(a: ArgDef): string {
  if (a.defaultText !== undefined) return a.defaultText;
  if (a.default !== undefined) return String(a.default);
  if (a.type === 'boolean') return 'off';
  return a.required ? 'none, required' : 'none';
}

/** The help text: usage, description, one entry per option with its allowed values and default, examples. */
export function helpText(def: CommandDef<Record<string, ArgDef>>): string {
  const entries = Object.entries(def.args).map(([name, a]) => {
    const head = `${a.short ? `-${a.short}, ` : '    '}${placeholder(name, a)}`;
    const values = allowed(a);
    const lines = a.description.split('\n');
    if (values) lines.push(`${a.list ? 'comma-separated, from' : 'one of'}: ${values.join(', ')}`);
    lines[lines.length - 1] += ` (default: ${defaultOf(a)})`;
    return { head, lines };
  });
  const width = Math.max(...entries.map((e) => e.head.length));
  const options = entries.flatMap(({ head, lines }) => lines.map((line, i) => `  ${(i === 0 ? head : '').padEnd(width)}  ${line}`));
  return [
    `Usage: ${usageLine(def)}`,
    '',
    ...(def.description ? [def.description, ''] : []),
    'Options:',
    ...options,
    `  ${'-h, --help'.padEnd(width)}  print this help`,
    '',
    ...(def.notes ? [def.notes, ''] : []),
    'Examples:',
    ...def.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** A usage error naming the problem and the usage line. */
export function usageError(message: string, usage: string): PhenofaceError {
  return new PhenofaceError('E_USAGE', `${message}\nUsage: ${usage}`);
}

function parseNumber(value: string, name: string, a: ArgDef, usage: string): number {
  const n = parseDecimal(value);
  const integer = a.type === 'integer';
  const bounded = a.min !== undefined && a.max !== undefined;
  // An integer beyond 2^53 is not the integer typed (Number rounds it), so it is refused as too large.
  const integerKind = bounded ? 'an integer' : 'an integer between -(2^53 - 1) and 2^53 - 1';
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n)) || (a.min !== undefined && n < a.min) || (a.max !== undefined && n > a.max)) {
    throw usageError(`Invalid --${name}: "${value}". Should be ${integer ? integerKind : 'a number'}${bounded ? ` in [${a.min}, ${a.max}]` : ''}.`, usage);
  }
  return n;
}

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/**
 * Refuses an option given twice with different values: `util.parseArgs` keeps the last one, which
 * would quietly override what was written first. A flag given twice means the same, so it passes.
 */
function checkRepeats(tokens: readonly Token[], usage: string): void {
  const first = new Map<string, string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.value === undefined) continue;
    const earlier = first.get(t.name);
    if (earlier === undefined) first.set(t.name, t.value);
    else if (earlier !== t.value) throw usageError(`--${t.name} is given twice: "${earlier}" and "${t.value}".`, usage);
  }
}

/** What {@link parseCommand} returns. */
export interface Parsed<A extends Record<string, ArgDef>> {
  values: ArgValues<A>;
  positionals: string[];
  /** `--help` or `-h` was given: print {@link helpText} and parse nothing else. */
  help: boolean;
  /** Options the user gave (a default filled in is not given). */
  given: ReadonlySet<keyof A>;
}

/**
 * Parses `argv` against the command's table: numbers are checked against their bounds, values
 * against their allowed set, text is never empty, absent options get their default. E_USAGE with
 * the usage line otherwise.
 */
export function parseCommand<A extends Record<string, ArgDef>>(def: CommandDef<A>, argv: string[]): Parsed<A> {
  const usage = usageLine(def);
  const options = Object.fromEntries(Object.entries(def.args).map(([name, a]) => [name, { type: a.type === 'boolean' ? 'boolean' as const : 'string' as const, ...(a.short && { short: a.short }) }]));
  let raw: { values: Record<string, string | boolean | undefined>; positionals: string[]; tokens: Token[] };
  try {
    raw = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    // Node's own message for an unknown option suggests `--` (and leaves its quote open): name the
    // option and the ones the command has instead.
    const unknown = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec((err as Error).message)?.[1] : undefined;
    const files = def.synopsis ? ` A file whose name starts with "-" goes after --, as in: -- ${unknown}` : '';
    const message = unknown ? `Unknown option "${unknown}". Should be one of: ${Object.keys(def.args).map((n) => `--${n}`).join(', ')}, --help.${files}` : (err as Error).message;
    throw new PhenofaceError('E_USAGE', `${message}\nUsage: ${usage}`, { cause: err });
  }
  const given = new Set(Object.keys(raw.values).filter((k) => k !== 'help' && raw.values[k] !== undefined));
  if (raw.values.help) return { values: {} as ArgValues<A>, positionals: raw.positionals, help: true, given };
  checkRepeats(raw.tokens, usage);
  const values: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(def.args)) {
    const v = raw.values[name];
    if (v === undefined) {
      values[name] = a.default;
    } else if (typeof v === 'boolean') {
      values[name] = v;
    } else if (a.type === 'number' || a.type === 'integer') {
      values[name] = parseNumber(v, name, a, usage);
    } else {
      const set = a.list ? undefined : allowed(a);
      // An empty value is most often a shell variable left unset (--out "$OUT"): read as a path it
      // would name the current folder, so it is refused rather than given a meaning; so is one of
      // spaces only, which names no class, folder or host anyone means.
      if (v.trim() === '' && !set) throw usageError(`Invalid --${name}: ${JSON.stringify(v)}. Should be a non-empty ${a.placeholder ?? name.toUpperCase()}.`, usage);
      if (set && !set.includes(v)) throw usageError(`Unknown ${a.label ?? `--${name}`}: "${v}". Should be one of: ${set.join(', ')}.`, usage);
      values[name] = v;
    }
  }
  return { values: values as ArgValues<A>, positionals: raw.positionals, help: false, given };
}
