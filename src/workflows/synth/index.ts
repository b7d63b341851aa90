/** Planted-phenotype data sets: the landmark-driven warp, subject parameters, and `synthesize`. */
export { synthesize, safeName, validateSynthOptions, JPEG_QUALITY_RANGE, synthGuard, SYNTH_LABELS, SYNTH_OUTPUT } from './synth.ts';
export type { SynthOptions, SynthResult, Truth, TruthPhoto, TruthSubject, DetectFn } from './synth.ts';
export { readSynthInput, PASSTHROUGH_COLUMNS } from './input.ts';
export type { SynthInput, SynthRow, RowError } from './input.ts';
export { SYNTH_REGIONS, FULL_STRENGTH, parseRegions, subjectWarp, scaleParams } from './params.ts';
export type { SynthRegion, WarpParams, SubjectWarp, PeriorbitalParams, PerinasalParams, PerioralParams, FacelengthParams } from './params.ts';
export { faceFrame, buildPhotoWarp, zeroWarp, warpImage, remapImage, mapPoint, forwardPoint, jacobianAt, supportBox, PROFILE_SKIPS } from './warp.ts';
export type { FaceFrame, PhotoWarp, PlantedRegion, SkippedRegion, LocalKernel, BandKernel } from './warp.ts';
export { hashUniform } from '../../math/random.ts';
export { chooseAffected } from './random.ts';
export { parseClassSpec, dealClasses, classWarp, classRegions } from './classes.ts';
export type { SynthClass } from './classes.ts';
