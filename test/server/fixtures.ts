/** Photos for server and browser tests, drawn with sharp (no files from outside the repository). */
import sharp from 'sharp';
import { FACE_LAYOUT } from './fake-service.ts';

/** A cartoon face laid out as {@link FACE_LAYOUT} says, as JPEG (or another format). */
export async function facePhoto(width = 480, height = 600, format: 'jpeg' | 'png' | 'webp' = 'jpeg', skin = '#e0b89a'): Promise<Buffer> {
  const [le, re, nose, ml, mr] = FACE_LAYOUT.landmarks.map(([x, y]) => [x * width, y * height]);
  const b = FACE_LAYOUT.box;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#9fb8c8"/><stop offset="1" stop-color="#52707f"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#bg)"/>
    <ellipse cx="${(b.x + b.width / 2) * width}" cy="${(b.y + b.height / 2) * height}" rx="${(b.width / 2) * width}" ry="${(b.height / 2) * height}" fill="${skin}"/>
    <ellipse cx="${le[0]}" cy="${le[1]}" rx="${width * 0.045}" ry="${height * 0.02}" fill="#fff"/><circle cx="${le[0]}" cy="${le[1]}" r="${width * 0.018}" fill="#3a2a1a"/>
    <ellipse cx="${re[0]}" cy="${re[1]}" rx="${width * 0.045}" ry="${height * 0.02}" fill="#fff"/><circle cx="${re[0]}" cy="${re[1]}" r="${width * 0.018}" fill="#3a2a1a"/>
    <path d="M ${nose[0]} ${le[1] + height * 0.03} L ${nose[0] - width * 0.035} ${nose[1]} L ${nose[0] + width * 0.035} ${nose[1]} Z" fill="#c99a7c"/>
    <path d="M ${ml[0]} ${ml[1]} Q ${(ml[0] + mr[0]) / 2} ${ml[1] + height * 0.04} ${mr[0]} ${mr[1]}" stroke="#a0524a" stroke-width="${width * 0.012}" fill="none"/>
  </svg>`;
  return sharp(Buffer.from(svg)).toFormat(format, { quality: 85 }).toBuffer();
}

/** A uniform grey photo: decodable, and the fake service finds no face in it. */
export function blankPhoto(width = 320, height = 240): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toBuffer();
}

/** A multipart/form-data body with the given file parts (field, filename, bytes, content type). */
export function multipartBody(parts: Array<{ field?: string; filename: string; bytes: Buffer; type?: string }>): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----phenoface${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.field ?? 'photos'}"; filename="${p.filename}"\r\nContent-Type: ${p.type ?? 'image/jpeg'}\r\n\r\n`));
    chunks.push(p.bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
