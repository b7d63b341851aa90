/**
 * Test fixtures for synth: a drawn face (sharp renders an SVG: skin, eyes, nose, mouth over a
 * textured background, so any displacement shows in the pixels) with known landmarks, and a fake
 * detector that returns them. No models needed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Face, Landmarks5 } from '../../../src/types.ts';

export const FACE_W = 200;
export const FACE_H = 240;
/** Landmarks of the drawn face (contract order). Eye-to-mouth distance 70 px. */
export const FACE_LANDMARKS: Landmarks5 = [[70, 100], [130, 100], [100, 136], [78, 170], [122, 170]];

function faceSvg(variant: number): string {
  // A fine checker texture everywhere makes every moved pixel change value.
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${FACE_W}" height="${FACE_H}">
  <defs><pattern id="t" width="6" height="6" patternUnits="userSpaceOnUse">
    <rect width="6" height="6" fill="rgb(${120 + variant * 20},150,170)"/><rect width="3" height="3" fill="rgb(90,110,${130 + variant * 10})"/><rect x="3" y="3" width="3" height="3" fill="rgb(160,170,180)"/>
  </pattern>
  <pattern id="s" width="4" height="4" patternUnits="userSpaceOnUse">
    <rect width="4" height="4" fill="rgb(225,180,150)"/><rect width="2" height="2" fill="rgb(205,160,130)"/>
  </pattern></defs>
  <rect width="${FACE_W}" height="${FACE_H}" fill="url(#t)"/>
  <ellipse cx="100" cy="135" rx="68" ry="92" fill="url(#s)"/>
  <ellipse cx="70" cy="100" rx="15" ry="7" fill="white" stroke="black" stroke-width="2"/>
  <ellipse cx="130" cy="100" rx="15" ry="7" fill="white" stroke="black" stroke-width="2"/>
  <circle cx="70" cy="100" r="5" fill="rgb(60,40,20)"/><circle cx="130" cy="100" r="5" fill="rgb(60,40,20)"/>
  <path d="M52 84 Q70 76 88 84" stroke="rgb(80,50,30)" stroke-width="3" fill="none"/>
  <path d="M112 84 Q130 76 148 84" stroke="rgb(80,50,30)" stroke-width="3" fill="none"/>
  <path d="M100 104 L92 132 Q100 140 108 132 Z" fill="rgb(200,150,120)" stroke="rgb(120,80,60)" stroke-width="2"/>
  <ellipse cx="100" cy="170" rx="22" ry="7" fill="rgb(170,60,60)" stroke="rgb(110,30,30)" stroke-width="2"/>
</svg>`;
}

/** Writes the drawn face as a JPEG (quality 92) to `file`; `variant` changes the colours a little. */
export async function writeFaceJpeg(file: string, variant = 0): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await sharp(Buffer.from(faceSvg(variant))).jpeg({ quality: 92 }).toBuffer());
}

/** A face record at the drawn landmarks. */
export function drawnFace(view?: Face['view']): Face {
  return { box: { x: 32, y: 43, width: 136, height: 184 }, score: 0.99, landmarks5: FACE_LANDMARKS, ...(view && { view }) };
}

/**
 * A fake detector: finds the drawn face in every file except those whose name contains
 * `noface` (no face); it does not read the file, so undecodable files reach synth's decoder.
 */
export async function fakeDetect(absPath: string): Promise<{ width: number; height: number; faces: Face[] }> {
  if (path.basename(absPath).includes('noface')) return { width: FACE_W, height: FACE_H, faces: [] };
  return { width: FACE_W, height: FACE_H, faces: [drawnFace('frontal')] };
}

/** The first face, as the fake detector finds at most one. */
export const firstFace = (faces: Face[]) => faces[0];
