/**
 * The image layer: decoding, resampling, encoding, overlays, and coordinates between a photo's
 * pixel grids (full size, decoded, reduced). Stages use these; nothing here knows about faces
 * beyond where their boxes and landmarks lie.
 */
export { ACCEPTED_FORMATS, decodeImage, imageName, isSrgbProfile, type DecodedImage } from './decode.ts';
export { assertRgbImage, cropPad, invertAffine, resizeAreaCHW, rotateQuarterTurns, toPlanarFloat, warpAffine, type Affine } from './resample.ts';
export { resizeImage } from './resize.ts';
export { integralImage, resizeAreaFromIntegral, type AreaResizeOptions, type IntegralImage } from './integral.ts';
export { contactSheet, encodeJpeg, encodePng, type RgbaImage } from './encode.ts';
export { blendHeat, colorbar, colormapLut, heatFraction, heatmapOverlay, type Colormap, type HeatMap, type OverlayOptions } from './overlay.ts';
export { affineToDecoded, affineToOriginal, betweenSizes, mapBox, mapFace, mapLandmarks, mapPoint, toDecoded, toOriginal, type GridMap, type Matrix2x3 } from './coords.ts';
