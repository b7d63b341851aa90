/**
 * The iBUG-300W 68-point landmark scheme (Sagonas et al. 2016, "300 Faces In-The-Wild Challenge"),
 * 0-based, as the dense landmark models return it, and which facial region (of `explain/regions`)
 * each point lies in. Sides are the image's: "left" is the image's left, the patient's right in
 * an ordinary (not mirrored) photo, as in the contract's five-point convention.
 *
 * Indices: 0-16 jaw contour (8 = chin, menton/gnathion), 17-21 and 22-26 brows, 27-30 nasal
 * bridge (27 = nasion/sellion, 30 = pronasale, the nose tip), 31-35 nose base (31 and 35 the
 * lateral alar points, 33 = subnasale), 36-41 and 42-47 eyes (36 and 45 exocanthion, 39 and 42
 * endocanthion), 48-59 outer lips (48 and 54 cheilion, 51 = labiale superius, 57 = labiale
 * inferius), 60-67 inner lips.
 */
import { REGION_NAMES, type RegionName } from '../explain/regions.ts';
import { IBUG68_POINTS } from '../landmarks/ibug68.ts';

/** The points of the scheme the anthropometric panel names (0-based indices; ranges in `landmarks/ibug68.ts`). */
export const IBUG68_NAMED = Object.freeze({
  jawLeftTop: 0,
  menton: 8,
  jawRightTop: 16,
  nasion: 27,
  pronasale: 30,
  alarLeft: 31,
  nostrilLeft: 32,
  subnasale: 33,
  nostrilRight: 34,
  alarRight: 35,
  exocanthionLeft: 36,
  endocanthionLeft: 39,
  endocanthionRight: 42,
  exocanthionRight: 45,
  cheilionLeft: 48,
  labialeSuperius: 51,
  cheilionRight: 54,
});

/**
 * The explanation region each point lies in: the upper jaw contour (0-3, 13-16) runs along the
 * cheeks (malar), the lower contour (4-12) along the chin and jaw; brows are forehead/glabella;
 * 27-35 the nose; each eye its periorbital region; 48-67 the mouth; the extra points after the 68
 * (`EXTRA_POINTS`, the nasal sidewalls at the root) the nose.
 */
export function landmarkRegion(index: number): RegionName {
  if (index >= IBUG68_POINTS) return 'perinasal';
  if (index <= 3) return 'malar-left';
  if (index <= 12) return 'chin-jaw';
  if (index <= 16) return 'malar-right';
  if (index <= 26) return 'forehead-glabella';
  if (index <= 35) return 'perinasal';
  if (index <= 41) return 'periorbital-left';
  if (index <= 47) return 'periorbital-right';
  return 'perioral';
}

/** The regions some point of the scheme lies in, in `explain/regions` order (no point lies outside the face). */
export const LANDMARK_REGIONS: readonly RegionName[] = REGION_NAMES.filter((r) => Array.from({ length: IBUG68_POINTS }, (_, i) => landmarkRegion(i)).includes(r));
