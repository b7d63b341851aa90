/**
 * Many-class planted sets, the known-answer test of a ranked differential: several synthetic
 * "syndromes", each its own combination of warped regions and strengths, plus untouched controls.
 * A class is written `name:region=strength[+region=strength...]` and classes are joined by commas,
 * e.g. `a:perinasal=0.6,b:periorbital=0.5+perioral=0.4`. Who is affected is the seeded
 * `fraction` of subjects synth always draws (`random.ts`); those are then dealt to the classes in
 * turn, in an order drawn from `(seed, subject)`, so the classes differ in size by at most one and
 * the deal does not depend on the order of the manifest's rows.
 */
import { PhenofaceError } from '../../errors.ts';
import { hashUniform } from '../../math/random.ts';
import { parseDecimal } from '../../math/decimal.ts';
import { SYNTH_REGIONS, subjectWarp, type SubjectWarp, type SynthRegion, type WarpParams } from './params.ts';

/** One planted class: its label and the strength (0..1] of each region it warps. */
export interface SynthClass {
  label: string;
  regions: Partial<Record<SynthRegion, number>>;
}

/** Class names: a letter or digit first, then letters, digits, `_`, `-` or `.` (safe in CSV and folder names). */
const CLASS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const bad = (part: string, expected: string) => new PhenofaceError('E_CONFIG', `Invalid class "${part}" in --classes. Should be ${expected}.`);

/** One `name:region=strength[+...]` part. */
function parseClass(part: string, control: string): SynthClass {
  const colon = part.indexOf(':');
  if (colon < 0) throw bad(part, 'name:region=strength[+region=strength...], e.g. "a:perinasal=0.6"');
  const label = part.slice(0, colon).trim();
  // A study reads labels that differ only in letter case as one class typed two ways, and refuses them.
  if (!CLASS_NAME.test(label) || label.toLowerCase() === control.toLowerCase()) throw bad(part, `named with letters, digits, "_", "-" or "." (not "${control}", the untouched class, in any letter case)`);
  const regions: SynthClass['regions'] = {};
  for (const term of part.slice(colon + 1).split('+')) {
    const [name, value, ...rest] = term.split('=').map((s) => s.trim());
    const strength = parseDecimal(value ?? '');
    if (!(SYNTH_REGIONS as readonly string[]).includes(name) || rest.length > 0) throw bad(part, `a list of region=strength with regions among: ${SYNTH_REGIONS.join(', ')}`);
    if (value === undefined || value === '' || !(strength > 0 && strength <= 1)) throw bad(part, `region=strength with each strength in (0, 1]; "${term.trim()}" is not`);
    if (regions[name as SynthRegion] !== undefined) throw bad(part, `each region once; "${name}" appears twice`);
    regions[name as SynthRegion] = strength;
  }
  return { label, regions };
}

/**
 * Parses a class specification (see the module comment); E_CONFIG naming the bad part. Two classes
 * may not share a name, even one differing only in letter case from the other's or from `control`
 * (a study refuses such labels), nor the same regions at the same strengths (they could not be told apart).
 */
export function parseClassSpec(spec: string, control: string): SynthClass[] {
  const parts = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new PhenofaceError('E_CONFIG', 'Invalid --classes "": should list at least one class, e.g. "a:perinasal=0.6,b:periorbital=0.5+perioral=0.4".');
  const classes = parts.map((p) => parseClass(p, control));
  const names = new Set<string>();
  const looks = new Set<string>();
  for (const c of classes) {
    if (names.has(c.label.toLowerCase())) throw bad(c.label, 'named once; the name appears twice (letter case aside: a study reads "A" and "a" as one class typed two ways)');
    const look = JSON.stringify(SYNTH_REGIONS.map((r) => c.regions[r] ?? 0));
    if (looks.has(look)) throw bad(c.label, 'a combination of regions and strengths no other class has');
    names.add(c.label.toLowerCase());
    looks.add(look);
  }
  return classes;
}

/** The affected subjects dealt to the classes in turn, in the order of a draw keyed by `(seed, subject)`. */
export function dealClasses(affected: ReadonlySet<string>, classes: readonly SynthClass[], seed: number): Map<string, SynthClass> {
  const order = [...affected]
    .map((id) => ({ id, r: hashUniform(seed, `class:${id}`) }))
    .sort((a, b) => a.r - b.r || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return new Map(order.map(({ id }, i) => [id, classes[i % classes.length]]));
}

/**
 * A subject's warp for its class: each region at its own strength, with the subject's jitter (the
 * same draws `subjectWarp` makes for one region at a time). `strength` is the mean over the class's
 * regions, after jitter.
 */
export function classWarp(subject: string, c: SynthClass, seed: number, jitter: number, scale = 1): SubjectWarp {
  const params: WarpParams = {};
  const strengths: number[] = [];
  for (const region of SYNTH_REGIONS) {
    const s = c.regions[region];
    if (s === undefined) continue;
    const w = subjectWarp(subject, [region], s * scale, seed, jitter);
    Object.assign(params, w.params);
    strengths.push(w.strength);
  }
  return { strength: strengths.reduce((a, b) => a + b, 0) / strengths.length, params };
}

/** The regions a class warps, in the canonical order. */
export const classRegions = (c: SynthClass): SynthRegion[] => SYNTH_REGIONS.filter((r) => c.regions[r] !== undefined);
