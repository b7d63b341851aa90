import { describe, expect, it } from 'vitest';
import { measurementDefinition, measurePanel, MEASUREMENT_NAMES, referenceLength } from '../../../src/features/anthropometry.ts';
import { fitMeasurementNorms, hpoTermsFor, normOf, normsFromJSON, personSd, photoMeasurements, subjectMeasurements, type MeasurementNorms } from '../../../src/features/measurements.ts';
import type { Point } from '../../../src/types.ts';
import { frontalFace, profileFace } from './faces.ts';

/** A frontal face whose mouth is `width` px wide (the cheilia moved symmetrically). */
function mouthFace(width: number): Point[] {
  const p = frontalFace();
  p[48] = [200 - width / 2, 330];
  p[54] = [200 + width / 2, 330];
  return p;
}
const mouth = (pts: Point[]) => measurePanel(pts, 'frontal')[MEASUREMENT_NAMES.indexOf('mouth-width')]!;

describe('norms from controls', () => {
  // Five control people: A has two photos (mouth 56 and 64 px), B-E one each (58, 60, 62, 60).
  const controls = [
    { subject: 'A', view: 'frontal' as const, landmarks68: mouthFace(56) },
    { subject: 'A', view: 'frontal' as const, landmarks68: mouthFace(64) },
    { subject: 'B', view: 'frontal' as const, landmarks68: mouthFace(58) },
    { subject: 'C', view: 'frontal' as const, landmarks68: mouthFace(60) },
    { subject: 'D', view: 'frontal' as const, landmarks68: mouthFace(62) },
    { subject: 'E', view: 'frontal' as const, landmarks68: mouthFace(60) },
  ];
  const norms = fitMeasurementNorms(controls, { controlLabel: 'control', hpoZ: 2, minControlSubjects: 5 });

  it('weights each control person equally and uses the population SD', () => {
    const v = controls.map((c) => mouth(c.landmarks68));
    const w = [0.5, 0.5, 1, 1, 1, 1];
    const mean = v.reduce((s, x, i) => s + w[i] * x, 0) / 5;
    const sd = Math.sqrt(v.reduce((s, x, i) => s + w[i] * (x - mean) ** 2, 0) / 5);
    const n = norms.views.frontal!['mouth-width'];
    expect(n.mean).toBeCloseTo(mean, 12);
    expect(n.sd).toBeCloseTo(sd, 12);
    expect(n).toMatchObject({ subjects: 5, photos: 6 });
    expect(norms.population).toMatch(/controls of this study \(label control\)/);
  });

  it('has no norm for a measurement that is constant in the controls, and none for views without controls', () => {
    expect(norms.views.frontal!['face-height-width']).toBeUndefined(); // a ratio the mouth does not change
    expect(norms.views.profile).toBeUndefined();
  });

  it('has no norm where the controls do not spread: copies of one face, moved about', () => {
    // Translated copies measure alike up to rounding, which leaves an SD of ~1e-16; a z against it
    // would be rounding error magnified 1e14 times.
    const copies = ['A', 'B', 'C', 'D', 'E'].map((subject, i) => ({ subject, view: 'frontal' as const, landmarks68: frontalFace().map(([x, y]) => [x + 0.1 * i + 0.37, y - 0.3 * i] as Point) }));
    expect(fitMeasurementNorms(copies, { controlLabel: 'control', minControlSubjects: 5 }).views).toEqual({});
  });

  it('gives no norms with fewer control people than the minimum', () => {
    const few = fitMeasurementNorms(controls, { controlLabel: 'control', minControlSubjects: 6 });
    expect(few.views).toEqual({});
  });

  it('z-scores a photo by hand and attaches only the term on its side', () => {
    const n = norms.views.frontal!['mouth-width'];
    const narrow = mouthFace(40);
    const m = photoMeasurements(narrow, 'frontal', norms).find((x) => x.name === 'mouth-width')!;
    const z = (mouth(narrow) - n.mean) / n.sd;
    expect(z).toBeLessThan(-2);
    expect(m.z).toBeCloseTo(z, 12);
    expect(m.region).toBe('perioral');
    expect(m.hpo).toEqual([{ id: 'HP:0000160', label: 'Narrow mouth' }]);
    const wide = photoMeasurements(mouthFace(80), 'frontal', norms).find((x) => x.name === 'mouth-width')!;
    expect(wide.hpo).toEqual([{ id: 'HP:0000154', label: 'Wide mouth' }]);
  });

  it('lists only what the view supports and the norms of that view have, each with a z', () => {
    const m = photoMeasurements(frontalFace(), 'frontal', norms);
    expect(m.map((x) => x.name)).toEqual(Object.keys(norms.views.frontal!).sort((a, b) => MEASUREMENT_NAMES.indexOf(a) - MEASUREMENT_NAMES.indexOf(b)));
    expect(m.find((x) => x.name === 'face-height-width')).toBeUndefined(); // no norm: constant in the controls
    expect(m.every((x) => Number.isFinite(x.z))).toBe(true);
    // The label says the patient's side: the image's left eye is the patient's right.
    expect(m.find((x) => x.name === 'palpebral-fissure-length-left')?.label).toBe("Palpebral fissure length, patient's right eye (image left)");
    expect(photoMeasurements(profileFace(), 'profile', norms)).toEqual([]); // no profile controls
    expect(photoMeasurements(frontalFace(), undefined, norms)).toEqual([]);
    const profileNorms = fitMeasurementNorms(['A', 'B', 'C', 'D', 'E'].map((subject, i) => ({ subject, view: 'profile' as const, landmarks68: profileFace().map(([x, y], k) => [x, k === 33 ? y + i : y] as Point) })), { controlLabel: 'control', minControlSubjects: 5 });
    const profile = photoMeasurements(profileFace(), 'profile', profileNorms);
    expect(profile.map((x) => x.name)).toEqual(['nasal-length', 'nasal-projection', 'philtrum-length', 'lower-face-height']);
    const ref = referenceLength(profileFace());
    expect(profile.find((x) => x.name === 'philtrum-length')!.value).toBeCloseTo(25 / ref, 12);
  });

  it('round-trips through JSON and refuses a broken record', () => {
    const back = normsFromJSON(JSON.parse(JSON.stringify(norms)));
    expect(back).toEqual(norms);
    const bad = JSON.parse(JSON.stringify(norms));
    bad.views.frontal['mouth-width'].sd = 0;
    expect(() => normsFromJSON(bad)).toThrow(/positive sd/);
    const flat = JSON.parse(JSON.stringify(norms));
    flat.views.frontal['mouth-width'].sd = 1e-16; // copies of one face: scored by nothing, as fitting would leave it out
    expect(normsFromJSON(flat).views.frontal!['mouth-width']).toBeUndefined();
    expect(() => normsFromJSON({ ...norms, kind: 'x' })).toThrow(/phenoface-measurement-norms/);
  });

  it('refuses a norm counted from no control person, or from fewer photos than people', () => {
    for (const [subjects, photos] of [[0, 6], [-3, 6], [2.5, 6], [5, 4]]) {
      const bad = JSON.parse(JSON.stringify(norms));
      Object.assign(bad.views.frontal['mouth-width'], { subjects, photos });
      expect(() => normsFromJSON(bad), `subjects ${subjects}, photos ${photos}`).toThrow(expect.objectContaining({ code: 'E_BUNDLE', message: expect.stringMatching(/frontal\.mouth-width/) }));
    }
  });

  it('lists no measurement whose z against an edited norm is not a finite number', () => {
    // Finite, positive and past the load checks, yet (value - mean) / sd overflows to -Infinity,
    // which JSON writes as null where the contract promises every listed z is a number.
    const edited = JSON.parse(JSON.stringify(norms));
    Object.assign(edited.views.frontal['mouth-width'], { mean: 1e308, sd: 1e-5, sdBetween: 1e-5, sdWithin: 1e-5 });
    const back = normsFromJSON(edited);
    const photo = photoMeasurements(mouthFace(60), 'frontal', back);
    expect(photo.map((m) => m.name)).not.toContain('mouth-width');
    expect(photo.every((m) => Number.isFinite(m.z))).toBe(true);
    const fine = photoMeasurements(mouthFace(60), 'frontal', norms).find((m) => m.name === 'mouth-width')!;
    const person = subjectMeasurements([[{ ...fine }], [{ ...fine }]], ['frontal', 'frontal'], back);
    expect(person.map((m) => m.name)).not.toContain('mouth-width');
    expect(person.every((m) => Number.isFinite(m.z))).toBe(true);
  });
});

describe('HPO thresholds', () => {
  const pf = measurementDefinition('palpebral-fissure-length-left')!;
  const nose = measurementDefinition('nasal-length')!;

  it('attaches a term only beyond the threshold, on the side it describes', () => {
    expect(hpoTermsFor(pf, -2.01, 2)).toEqual([{ id: 'HP:0012745', label: 'Short palpebral fissure' }]);
    expect(hpoTermsFor(pf, -2, 2)).toEqual([]);
    expect(hpoTermsFor(pf, -1.99, 2)).toEqual([]);
    expect(hpoTermsFor(pf, 3, 2)).toEqual([]); // a long fissure is not "short palpebral fissure"
    expect(hpoTermsFor(nose, 2.5, 2)).toEqual([{ id: 'HP:0003189', label: 'Long nose' }]);
    expect(hpoTermsFor(nose, -2.5, 2)).toEqual([{ id: 'HP:0003196', label: 'Short nose' }]);
  });

  it.each([
    ['alar-base-width', 'low', ['HP:0000430', 'HP:0000460']],
    ['nasal-tip-width', 'high', ['HP:0000414']],
    ['face-height-width', 'high', ['HP:0000276']],
    ['mouth-width', 'low', ['HP:0000160']],
    ['philtrum-length', 'high', ['HP:0000343']],
    ['inner-canthal-distance', 'high', ['HP:0000506']],
  ])('%s %s carries %j', (name, side, ids) => {
    const z = side === 'low' ? -3 : 3;
    expect(hpoTermsFor(measurementDefinition(name)!, z, 2).map((t) => t.id)).toEqual(ids);
  });
});

describe('the spread of a person\'s mean', () => {
  // Five control people, two photos each, each photo 1 from the person's mean: within-person
  // variance 2; the people's means 2, 3, 6, 5, 4 spread with variance 2, of which 2/2 is their
  // photos' noise, so the between-person variance is 1; a photo's variance is 1 + 2 = 3.
  const values = [[1, 3], [2, 4], [5, 7], [4, 6], [3, 5]].flatMap((xs, k) => xs.map((value) => ({ subject: `c${k}`, value })));
  const norm = normOf(values, 5)!;

  it('splits the controls\' spread into between and within people', () => {
    expect(norm.mean).toBeCloseTo(4, 12);
    expect(norm.sd).toBeCloseTo(Math.sqrt(3), 12);
    expect(norm.sdBetween).toBeCloseTo(1, 12);
    expect(norm.sdWithin).toBeCloseTo(Math.sqrt(2), 12);
  });

  it('scores a mean over n photos against sqrt(between² + within² / n), and falls back to a photo\'s SD without the split', () => {
    expect(personSd(norm, 1)).toBeCloseTo(Math.sqrt(3), 12);
    expect(personSd(norm, 4)).toBeCloseTo(Math.sqrt(1.5), 12);
    const single = normOf(values.filter((_, i) => i % 2 === 0), 5)!; // one photo each: no split
    expect(single.sdBetween).toBeUndefined();
    expect(personSd(single, 4)).toBe(single.sd);
  });
});

describe('subject measurements', () => {
  const norm = { mean: 0.2, sd: 0.05, subjects: 10, photos: 40, sdBetween: 0.03, sdWithin: 0.04 };
  const norms: Pick<MeasurementNorms, 'hpoZ' | 'views'> = { hpoZ: 2, views: { frontal: { 'philtrum-length': norm }, profile: { 'philtrum-length': { ...norm, mean: 0.9 } } } };
  const philtrum = (value: number, z: number) => [{ name: 'philtrum-length', label: 'Philtrum length', region: 'perioral' as const, value, z, hpo: [] }];

  it('scores the mean value over the photos of the view most of them were taken in, against the spread of such means', () => {
    const photos = [philtrum(0.29, 1.8), philtrum(0.9, 0), philtrum(0.31, 2.2)];
    const [s] = subjectMeasurements(photos, ['frontal', 'profile', 'frontal'], norms);
    const z = (0.3 - 0.2) / Math.sqrt(0.03 ** 2 + 0.04 ** 2 / 2);
    expect(s).toMatchObject({ name: 'philtrum-length', region: 'perioral', view: 'frontal', photos: 2, hpo: [{ id: 'HP:0000343', label: 'Long philtrum' }] });
    expect(s.value).toBeCloseTo(0.3, 12);
    expect(s.z).toBeCloseTo(z, 12);
    expect(z).toBeGreaterThan(2.4); // beyond the threshold, where the photos' mean z (2.0) is not
    expect(subjectMeasurements([photos[0]], ['frontal'], norms)[0].hpo).toEqual([]);
  });

  it('takes the frontal photos on a tie, and leaves out photos without a view', () => {
    const photos = [philtrum(0.9, -1), philtrum(0.25, 1), philtrum(0.4, 0)];
    const [s] = subjectMeasurements(photos, ['profile', 'frontal', undefined], norms);
    expect(s).toMatchObject({ view: 'frontal', value: 0.25, photos: 1 });
    expect(s.z).toBeCloseTo(1, 12); // one photo: against sqrt(between² + within²)
    expect(subjectMeasurements([photos[2]], [undefined], norms)).toEqual([]);
  });
});
