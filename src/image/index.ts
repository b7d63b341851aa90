/**
 * The image layer: decoding, resampling, encoding and overlays. Stages use these; nothing here
 * knows about faces.
 */
export { ACCEPTED_FORMATS, decodeImage, isSrgbProfile, type DecodedImage } from './decode.ts';
export { assertRgbImage, cropPad, invertAffine, resizeAreaCHW, toPlanarFloat, warpAffine, type Affine } from './resample.ts';
export { resizeImage } from './resize.ts';
export { integralImage, resizeAreaFromIntegral, type AreaResizeOptions, type IntegralImage } from './integral.ts';
export { contactSheet, encodeJpeg, encodePng, type RgbaImage } from './encode.ts';
export { colorbar, colormapLut, heatmapOverlay, type Colormap, type HeatMap, type OverlayOptions } from './overlay.ts';
