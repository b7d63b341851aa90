/**
 * The image layer: decoding, resampling, encoding and overlays. Stages use these; nothing here
 * knows about faces.
 */
export { decodeImage, type DecodedImage } from './decode.ts';
export { resizeAreaCHW, toPlanarFloat, warpAffine } from './resample.ts';
