/**
 * Warp parameters of the planted 22q11.2DS-like phenotype, per subject.
 *
 * The regions and the direction of each change follow the facial phenotype described for
 * 22q11.2 deletion syndrome (McDonald-McGinn et al., Nat Rev Dis Primers 2015; Baek et al. 2025's
 * region analysis): narrow, slightly upslanting palpebral fissures with hooded lids (periorbital),
 * a bulbous nasal tip with narrow alar base (perinasal), a small mouth (perioral) and a long face
 * (face length). Amounts are relative changes (0 = no change) or, for lengths, fractions of the
 * eye-to-mouth distance; at strength 1 the change is obvious to the eye, at 0.5 subtle.
 */
import { PhenofaceError } from '../../errors.ts';
import { hashUniform } from '../../math/random.ts';

/** The regions synth can plant, in the order they are listed and applied. */
export const SYNTH_REGIONS = ['periorbital', 'perinasal', 'perioral', 'facelength'] as const;

/** One plantable region. */
export type SynthRegion = (typeof SYNTH_REGIONS)[number];

/** Eyes: palpebral fissures narrower (shorter and lower) and upslanting, upper lids hooded. */
export interface PeriorbitalParams {
  /** Relative change of fissure length (e.g. -0.1 = 10% shorter). */
  fissureWidth: number;
  /** Relative change of fissure height. */
  fissureHeight: number;
  /** Rotation lifting each eye's outer canthus, degrees. */
  upslantDeg: number;
  /** Downward shift of the upper lid and brow skin, in eye-to-mouth distances. */
  hood: number;
}

/** Nose: bulbous, wider tip; narrower alar base; broad, prominent nasal root. */
export interface PerinasalParams {
  /** Relative enlargement of the nasal tip (isotropic). */
  tipScale: number;
  /** Relative change of the alar base width (negative = narrower). */
  alarWidth: number;
  /** Relative widening of the nasal root and bridge between the eyes (HP:0000426 prominent nasal bridge). */
  bridgeWidth: number;
}

/** Mouth: smaller. */
export interface PerioralParams {
  /** Relative change of mouth width. */
  mouthWidth: number;
  /** Relative change of lip height. */
  mouthHeight: number;
}

/** Lower face: longer. */
export interface FacelengthParams {
  /** Downward shift of the chin, in eye-to-mouth distances (the nose stays put). */
  stretch: number;
}

/** A subject's warp: one entry per planted region. All amounts 0 is the identity. */
export interface WarpParams {
  periorbital?: PeriorbitalParams;
  perinasal?: PerinasalParams;
  perioral?: PerioralParams;
  facelength?: FacelengthParams;
}

/**
 * Amounts at strength 1 (before jitter). Chosen by eye on LFW and CFP photos so that strength 1 is
 * plainly visible and strength 0.5 subtle; the warp stays invertible with a margin at these
 * values times the largest jitter (see the Jacobian test).
 *
 * The nose was balanced by measurement. With tip +22% and alar base -18% alone it was
 * far weaker than the other regions: at strength 1 it moved 116 px·px of the 112x112 aligned crop
 * (sum of displacements; periorbital 643, perioral 2153, face length 3391 after the kernel fixes)
 * and shifted MobileFaceNet embeddings by d' 0.13-0.26 (100 CFP people; the other regions
 * 1.0-1.5), i.e. it was not "obvious" to the eye or the network. Now tip +35%, alar base -25%
 * and a nasal root 30% wider (HP:0000426): 299 px·px, d' 0.52, plainly visible in the
 * contact sheet and still a nose. MobileFaceNet stays least sensitive to the nose.
 */
export const FULL_STRENGTH: Readonly<Required<WarpParams>> = Object.freeze({
  periorbital: { fissureWidth: -0.12, fissureHeight: -0.25, upslantDeg: 7, hood: 0.035 },
  perinasal: { tipScale: 0.35, alarWidth: -0.25, bridgeWidth: 0.3 },
  perioral: { mouthWidth: -0.22, mouthHeight: -0.12 },
  facelength: { stretch: 0.1 },
});

/** A subject's warp after jitter. */
export interface SubjectWarp {
  /** The subject's strength after jitter (`strength * factor`, factor in [1 - jitter, 1 + jitter]). */
  strength: number;
  params: WarpParams;
}

/** Validates a region list: E_CONFIG naming each unknown name and the allowed set. */
export function parseRegions(names: readonly string[]): SynthRegion[] {
  const unknown = names.filter((n) => !(SYNTH_REGIONS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new PhenofaceError('E_CONFIG', `Unknown region${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}. Should be one of: ${SYNTH_REGIONS.join(', ')}.`);
  }
  if (names.length === 0) throw new PhenofaceError('E_CONFIG', `No regions given. Should be one or more of: ${SYNTH_REGIONS.join(', ')}.`);
  return SYNTH_REGIONS.filter((r) => names.includes(r));
}

/**
 * The warp of one subject: `FULL_STRENGTH` amounts of `regions`, times `strength`, times the
 * subject's jitter factors, drawn from `(seed, subject)` alone. `uniform` overrides the draws
 * (values in [0, 1); tests use it to reach the extreme jitter).
 */
export function subjectWarp(
  subject: string,
  regions: readonly SynthRegion[],
  strength: number,
  seed: number,
  jitter: number,
  uniform: (key: string) => number = (key) => hashUniform(seed, `jitter:${subject}:${key}`),
): SubjectWarp {
  const factor = (key: string) => 1 + jitter * (2 * uniform(key) - 1);
  const s = strength * factor('strength');
  const params: WarpParams = {};
  for (const region of regions) {
    const full = FULL_STRENGTH[region] as unknown as Record<string, number>;
    const amounts: Record<string, number> = {};
    for (const [name, value] of Object.entries(full)) amounts[name] = value * s * factor(`${region}.${name}`);
    (params as Record<string, unknown>)[region] = amounts;
  }
  return { strength: s, params };
}

/** Every amount of `params` times `k` (k = 0 gives the identity warp). */
export function scaleParams(params: WarpParams, k: number): WarpParams {
  const out: Record<string, Record<string, number>> = {};
  for (const [region, amounts] of Object.entries(params) as [string, Record<string, number>][]) {
    out[region] = Object.fromEntries(Object.entries(amounts).map(([name, v]) => [name, v * k]));
  }
  return out as WarpParams;
}
