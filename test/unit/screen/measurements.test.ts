import { describe, expect, it } from 'vitest';
import { fitMeasurementNorms } from '../../../src/features/measurements.ts';
import { photoMeasurementFields, subjectMeasurementFields } from '../../../src/workflows/screen/measurements.ts';
import { frontalFace, jittered } from '../features/faces.ts';

const norms = fitMeasurementNorms(
  Array.from({ length: 8 }, (_, i) => ({ subject: `c${i}`, view: 'frontal' as const, landmarks68: jittered(frontalFace(), 2, i + 1) })),
  { controlLabel: 'control' },
);

describe('screen measurement fields', () => {
  it('gives each photo its rounded panel and the person the mean, with a note on the reference', () => {
    const a = photoMeasurementFields(jittered(frontalFace(), 2, 50), 'frontal', norms);
    const b = photoMeasurementFields(jittered(frontalFace(), 2, 51), 'frontal', norms);
    const mouth = (ms: typeof a.raw) => ms!.find((m) => m.name === 'mouth-width')!;
    expect(a.fields.measurements!.find((m) => m.name === 'mouth-width')!.value).toBe(Math.round(mouth(a.raw).value * 1e4) / 1e4);
    const subject = subjectMeasurementFields([{ measurements: a.raw!, view: 'frontal' }, { measurements: b.raw!, view: 'frontal' }], norms);
    const s = subject.measurements!.find((m) => m.name === 'mouth-width')!;
    expect(s.z).toBe(Math.round(((mouth(a.raw).z + mouth(b.raw).z) / 2) * 100) / 100);
    expect(s).toMatchObject({ view: 'frontal', photos: 2 });
    expect(subject.measurementsNote).toMatch(/controls of this study.*not population norms/);
    // How many control people the spread comes from: a z against eight people is not one against a population's.
    expect(subject.measurementsNote).toMatch(/^z-scores are against controls of this study \(label control\) in the photo's view \(frontal: 8 control people\), not population norms/);
    expect(subject.measurementsNote).toMatch(/listed only where those controls give it a norm in the photo's view/);
    // and what the landmarks cannot see, so a normal z is not read as a normal nose
    expect(subject.measurementsNote).toMatch(/does not rule a difference out/);
    // One photo per control: the norms cannot split people's spread from photos', and the note says what the z is against.
    expect(subject.measurementsNote).toContain("scored against the spread of single photos among those controls, since this model's norms do not hold the spread of people's means");
  });

  it("says a person's mean is scored against the spread of people's means when the norms hold it", () => {
    const split = fitMeasurementNorms(
      Array.from({ length: 16 }, (_, i) => ({ subject: `c${i >> 1}`, view: 'frontal' as const, landmarks68: jittered(frontalFace(), 2, i + 1) })),
      { controlLabel: 'control' },
    );
    expect(split.views.frontal!['mouth-width'].sdBetween).toBeDefined();
    const photos = [50, 51].map((seed) => ({ measurements: photoMeasurementFields(jittered(frontalFace(), 2, seed), 'frontal', split).raw!, view: 'frontal' as const }));
    const note = subjectMeasurementFields(photos, split).measurementsNote!;
    expect(note).toContain('scored against the spread of such means among those controls');
    expect(note).not.toContain('single photos');
  });

  it('writes every z as a number, however far an edited norm puts it', () => {
    // A rehashed bundle's norm (mean 1e302, sd 1e-5) gives a finite z of about -1e307, which
    // rounding to 2 decimals by scaling by 100 overflowed to -Infinity: null in the JSON.
    const far = JSON.parse(JSON.stringify(norms));
    Object.assign(far.views.frontal['mouth-width'], { mean: 1e302, sd: 1e-5 });
    const photo = photoMeasurementFields(jittered(frontalFace(), 2, 50), 'frontal', far);
    const subject = subjectMeasurementFields([{ measurements: photo.raw!, view: 'frontal' }], far);
    for (const list of [photo.fields.measurements!, subject.measurements!]) {
      const mouth = list.find((m) => m.name === 'mouth-width')!;
      expect(mouth.z).toBeLessThan(-1e306);
      expect(list.every((m) => Number.isFinite(m.z) && Number.isFinite(m.value))).toBe(true);
    }
  });

  it('has nothing without norms or landmarks', () => {
    expect(photoMeasurementFields(frontalFace(), 'frontal', undefined)).toEqual({ fields: {} });
    expect(photoMeasurementFields(undefined, 'frontal', norms)).toEqual({ fields: {} });
    expect(subjectMeasurementFields([], norms)).toEqual({});
  });
});
