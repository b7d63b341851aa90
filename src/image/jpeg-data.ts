/**
 * Whether a JPEG holds all of its image data, read from the file's own bytes.
 *
 * libjpeg fills the blocks of a scan whose data stops early with grey, and only says so in a
 * warning ("premature end of data segment") that libvips keeps in one error buffer for the whole
 * process: under concurrent decodes the text may be another photo's, or gone. This check gives the
 * same answer from the bytes alone. It walks the markers as libjpeg does (skipping extraneous bytes
 * before a marker, and fill bytes), and decodes every scan's Huffman codes without computing a
 * pixel: a scan is whole when all of its MCUs could be decoded before the next marker, with every
 * restart marker (RST0..RST7) where the restart interval puts it. Baseline, extended and progressive
 * Huffman-coded JPEGs are checked, the progressive refinement scans with the per-coefficient state
 * that decides how many correction bits they hold. A data segment ends early exactly where libjpeg
 * would run out of bits, so a cut is found at the same place libjpeg warns about it.
 *
 * Why not a decoder from npm: `jpeg-js`, the most used pure-JS decoder, was measured as this check
 * and fails it both ways. It throws on extraneous bytes before a marker ("unknown JPEG marker"),
 * which libjpeg only warns about and which must be accepted, and on a file lacking only its end
 * marker; it ends a scan without complaint where another marker stands in for a restart marker, so a
 * file cut at a restart boundary and closed with an end marker passes. It also computes every
 * pixel: 135 ms for a 1920x1280 baseline JPEG (165 ms progressive), against 9 ms (43 ms) here.
 */

/** What {@link checkJpegData} found wrong with the image data. */
export interface JpegDataFault {
  /**
   * `missing`: image data ends early (a cut file, even one closed with an end marker); `corrupt`:
   * data that cannot be Huffman-decoded or misplaced restart markers; `unsupported`: a JPEG process
   * this check does not read (arithmetic coding, lossless, hierarchical), so its data is unchecked.
   */
  kind: 'missing' | 'corrupt' | 'unsupported';
  /** What is wrong and where, for an error message (e.g. "scan 1 stops after 560 of 1200 MCUs (a 0xFFD9 marker at byte 51234 interrupts it)"). */
  detail: string;
  /** Byte offset in the file where the fault was found. */
  offset: number;
}

/** The result of {@link checkJpegData}. */
export interface JpegDataReport {
  /** Why the image data is not whole; absent when every scan holds all of its MCUs. */
  fault?: JpegDataFault;
  /** The data is followed by an end-of-image marker (EOI); false when the file just ends. */
  hasEndMarker: boolean;
  /** Scans whose data was checked. */
  scans: number;
}

interface HuffmanTable {
  /** 9-bit lookahead: `(length << 8) | symbol`, 0 for codes longer than 9 bits. */
  fast: Uint16Array;
  /** Largest code of each length 1..16, or -1 when there are none. */
  maxCode: Int32Array;
  /** Index into `values` of the first code of each length, minus that code. */
  offset: Int32Array;
  values: Uint8Array;
}

interface FrameComponent {
  id: number;
  h: number;
  v: number;
  /** Blocks of the component per row and per column, as libjpeg counts them (jdinput.c). */
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Progressive only: one bit per AC coefficient (zig-zag 1..63) per block, set once it is non-zero. */
  nonZero?: Uint8Array;
  scanned: boolean;
}

interface Frame {
  progressive: boolean;
  components: FrameComponent[];
  mcusPerLine: number;
  mcusPerColumn: number;
}

/** Thrown inside the walk to stop it at the first fault; caught by {@link checkJpegData}. */
class Stop {
  constructor(readonly fault: JpegDataFault) {}
}

const hex = (code: number) => `0xFF${code.toString(16).toUpperCase().padStart(2, '0')}`;
const missing = (offset: number, detail: string) => new Stop({ kind: 'missing', detail, offset });
const corrupt = (offset: number, detail: string) => new Stop({ kind: 'corrupt', detail, offset });
const unsupported = (offset: number, detail: string) => new Stop({ kind: 'unsupported', detail, offset });

/**
 * Scans read before the file is refused. A progressive scan of end-of-band runs costs a few bytes
 * for millions of blocks, so a small hostile file of thousands of scans could otherwise hold this
 * check for minutes; encoders write about 10 (libjpeg's and mozjpeg's progressions).
 */
const MAX_SCANS = 100;

/** Markers without a length field (RST0..RST7, TEM): nothing follows them but the next marker. */
const isParameterless = (code: number) => (code >= 0xd0 && code <= 0xd7) || code === 0x01;

/**
 * The first marker at or after `pos` as libjpeg's `next_marker` finds it: other bytes are skipped
 * (extraneous data: a warning, no pixel lost), as are 0xFF fill bytes and stuffed 0xFF 0x00 pairs.
 * Returns the offset of the marker's last 0xFF and its code, or undefined at the end of the file.
 */
function nextMarker(data: Uint8Array, pos: number): { at: number; code: number } | undefined {
  for (;;) {
    const ff = data.indexOf(0xff, pos);
    if (ff < 0) return undefined;
    let p = ff + 1;
    while (p < data.length && data[p] === 0xff) p++;
    if (p >= data.length) return undefined;
    if (data[p] !== 0) return { at: p - 1, code: data[p] };
    pos = p + 1;
  }
}

function buildHuffmanTable(counts: Uint8Array, values: Uint8Array, at: number): HuffmanTable {
  const fast = new Uint16Array(512);
  const maxCode = new Int32Array(17).fill(-1);
  const offset = new Int32Array(17);
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    offset[len] = k - code;
    const n = counts[len - 1];
    if (n > 0) {
      for (let i = 0; i < n; i++, k++, code++) {
        if (len <= 9) {
          const shift = 9 - len;
          for (let fill = 0; fill < 1 << shift; fill++) fast[(code << shift) | fill] = (len << 8) | values[k];
        }
      }
      maxCode[len] = code - 1;
    }
    // libjpeg refuses a table whose codes do not fit their lengths (jdhuff.c, "Bogus Huffman table").
    if (k < values.length && code >= 1 << len) throw corrupt(at, `its Huffman table at byte ${at} defines more codes than fit their lengths`);
    code <<= 1;
  }
  return { fast, maxCode, offset, values };
}

/**
 * The example Huffman tables of T.81 Annex K.3, which libjpeg uses for table 0 or 1 of a scan when
 * the file never defines it (jdhuff.c): Motion-JPEG frames saved as photos carry no DHT segment.
 * Each AC list is its first, irregular part followed by every other run/size symbol in increasing
 * order. Built on first use.
 */
const standardTables = (() => {
  const acSymbols = [0x00, 0xf0, ...Array.from({ length: 160 }, (_, i) => ((i / 10) | 0) * 16 + (i % 10) + 1)];
  const ac = (head: number[]) => [...head, ...acSymbols.filter((x) => !head.includes(x)).sort((a, b) => a - b)];
  const dcValues = Array.from({ length: 12 }, (_, i) => i);
  const specs = {
    dc: [
      { counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], values: dcValues },
      { counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], values: dcValues },
    ],
    ac: [
      {
        counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
        values: ac([0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14,
          0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82]),
      },
      {
        counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
        values: ac([0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32,
          0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16,
          0x24, 0x34, 0xe1, 0x25, 0xf1]),
      },
    ],
  };
  let built: { dc: HuffmanTable[]; ac: HuffmanTable[] } | undefined;
  return () => {
    const build = (t: { counts: number[]; values: number[] }) => buildHuffmanTable(Uint8Array.from(t.counts), Uint8Array.from(t.values), 0);
    built ??= { dc: specs.dc.map(build), ac: specs.ac.map(build) };
    return built;
  };
})();

/**
 * The entropy-coded data of one scan, read bit by bit from `pos`. Stops (throws {@link Stop}) when a
 * bit is needed past the end of the data: a marker other than a stuffed 0xFF 0x00, or the end of the file.
 */
class BitReader {
  pos: number;
  private buffer = 0;
  private bits = 0;
  constructor(private readonly data: Uint8Array, start: number, private readonly where: () => string) {
    this.pos = start;
  }

  /** Adds whole bytes to the buffer until it holds more than 24 bits or the data ends. */
  private fill(): void {
    const data = this.data;
    while (this.bits <= 24) {
      if (this.pos >= data.length) return;
      let byte = data[this.pos];
      if (byte === 0xff) {
        let p = this.pos + 1;
        while (p < data.length && data[p] === 0xff) p++;
        if (p >= data.length || data[p] !== 0) return; // a marker (or the file's end) ends the data
        this.pos = p + 1;
        byte = 0xff;
      } else {
        this.pos++;
      }
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.bits += 8;
    }
  }

  /** The data ran out: `fill` stopped at a marker or at the end of the file. */
  private ran(): Stop {
    const marker = nextMarker(this.data, this.pos);
    const why = marker === undefined ? 'the file ends' : `a ${hex(marker.code)} marker at byte ${marker.at} interrupts it`;
    return missing(marker?.at ?? this.data.length, `${this.where()} (${why})`);
  }

  bit(): number {
    if (this.bits === 0) {
      this.fill();
      if (this.bits === 0) throw this.ran();
    }
    this.bits--;
    return (this.buffer >>> this.bits) & 1;
  }

  receive(n: number): number {
    if (n === 0) return 0;
    if (this.bits < n) {
      this.fill();
      if (this.bits < n) throw this.ran();
    }
    this.bits -= n;
    return (this.buffer >>> this.bits) & ((1 << n) - 1);
  }

  decode(table: HuffmanTable): number {
    if (this.bits < 9) this.fill();
    if (this.bits >= 9) {
      const entry = table.fast[(this.buffer >>> (this.bits - 9)) & 0x1ff];
      if (entry !== 0) {
        this.bits -= entry >> 8;
        return entry & 0xff;
      }
    }
    let code = 0;
    for (let len = 1; len <= 16; len++) {
      code = (code << 1) | this.bit();
      if (code <= table.maxCode[len]) return table.values[table.offset[len] + code];
    }
    throw corrupt(this.pos, `${this.where()} (a bad Huffman code before byte ${this.pos})`);
  }

  /**
   * Drops the buffered bits before a restart marker: the rest of the current byte (padding), and any
   * whole bytes read ahead, which a decoder skips as extraneous data on its way to the marker.
   */
  align(): void {
    this.bits = 0;
    this.buffer = 0;
  }
}

interface Scan {
  components: { comp: FrameComponent; dc?: HuffmanTable; ac?: HuffmanTable }[];
  /** Spectral selection (first and last zig-zag coefficient) and the bit position refined (0: a first scan). */
  ss: number;
  se: number;
  ah: number;
}

/** Reads one scan's data from `start`; returns where the walk goes on (at or before the next marker). */
function checkScan(data: Uint8Array, start: number, frame: Frame, scan: Scan, restartInterval: number, label: string): number {
  const walk = new ScanWalk(data, start, frame, scan, label);
  for (; walk.mcu < walk.mcuCount; walk.mcu++) {
    if (restartInterval > 0 && walk.mcu > 0 && walk.mcu % restartInterval === 0) walk.restart(restartInterval);
    walk.readMcu();
  }
  return walk.reader.pos;
}

/**
 * The state of one scan being read: the bit reader, the MCU reached, and the end-of-band run
 * that progressive AC scans carry from block to block (libjpeg's jdhuff.c / jdphuff.c decoders,
 * reading the coefficients' codes without computing the coefficients).
 */
class ScanWalk {
  readonly reader: BitReader;
  readonly single: boolean;
  readonly mcusPerLine: number;
  readonly mcuCount: number;
  mcu = 0;
  private eobrun = 0;

  constructor(private readonly data: Uint8Array, start: number, private readonly frame: Frame, private readonly scan: Scan, private readonly label: string) {
    this.single = scan.components.length === 1;
    this.mcusPerLine = this.single ? scan.components[0].comp.blocksPerLine : frame.mcusPerLine;
    this.mcuCount = this.single ? this.mcusPerLine * scan.components[0].comp.blocksPerColumn : frame.mcusPerLine * frame.mcusPerColumn;
    this.reader = new BitReader(data, start, () => this.where());
  }

  /** How far the scan got, for error messages. */
  where(): string {
    return `${this.label} stops after ${this.mcu} of ${this.mcuCount} MCUs`;
  }

  /** At a restart interval's end: the expected RSTn marker, then a fresh bit reader state. */
  restart(restartInterval: number): void {
    const { reader, data, mcu } = this;
    reader.align();
    const expected = 0xd0 + ((mcu / restartInterval - 1) & 7);
    const marker = nextMarker(data, reader.pos);
    if (marker === undefined) throw missing(data.length, `${this.where()} (the file ends where restart marker ${hex(expected)} belongs)`);
    if (marker.code !== expected) {
      const found = `a ${hex(marker.code)} marker at byte ${marker.at} where restart marker ${hex(expected)} belongs`;
      throw marker.code >= 0xd0 && marker.code <= 0xd7 ? corrupt(marker.at, `${this.where()} (${found})`) : missing(marker.at, `${this.where()} (${found})`);
    }
    reader.pos = marker.at + 2;
    this.eobrun = 0;
  }

  /** One MCU: a single component's block, or each component's blocks in turn. */
  readMcu(): void {
    const { scan, mcu } = this;
    if (this.single) {
      this.decodeBlock(scan.components[0], mcu);
      return;
    }
    // Block numbers only matter to AC scans' coefficient state, and AC scans hold one component.
    const row = Math.floor(mcu / this.mcusPerLine), col = mcu % this.mcusPerLine;
    for (const c of scan.components) {
      for (let y = 0; y < c.comp.v; y++) {
        for (let x = 0; x < c.comp.h; x++) this.decodeBlock(c, (row * c.comp.v + y) * c.comp.blocksPerLine + col * c.comp.h + x);
      }
    }
  }

  private decodeBlock(c: Scan['components'][number], block: number): void {
    const { ss, ah } = this.scan;
    if (!this.frame.progressive) this.sequentialBlock(c.dc!, c.ac!);
    else if (ss === 0) {
      if (ah === 0) this.dcFirst(c.dc!);
      else this.reader.bit();
    } else if (ah === 0) this.acFirst(c.ac!, c.comp.nonZero!, block);
    else this.acRefine(c.ac!, c.comp.nonZero!, block);
  }

  private sequentialBlock(dc: HuffmanTable, ac: HuffmanTable): void {
    const reader = this.reader;
    this.dcFirst(dc);
    for (let k = 1; k < 64; k++) {
      const rs = reader.decode(ac);
      const r = rs >> 4, s = rs & 15;
      if (s !== 0) {
        k += r;
        reader.receive(s);
      } else if (r === 15) {
        k += 15;
      } else {
        break;
      }
    }
  }

  private dcFirst(dc: HuffmanTable): void {
    const t = this.reader.decode(dc);
    if (t > 15) throw corrupt(this.reader.pos, `${this.where()} (a DC difference of ${t} bits)`);
    this.reader.receive(t);
  }

  private acFirst(ac: HuffmanTable, nz: Uint8Array, block: number): void {
    const { reader } = this;
    const { ss, se } = this.scan;
    if (this.eobrun > 0) { this.eobrun--; return; }
    for (let k = ss; k <= se; k++) {
      const rs = reader.decode(ac);
      const r = rs >> 4, s = rs & 15;
      if (s !== 0) {
        k += r;
        reader.receive(s);
        if (k <= 63) setNonZero(nz, block, k);
      } else if (r === 15) {
        k += 15;
      } else {
        this.eobrun = (1 << r) + reader.receive(r) - 1;
        break;
      }
    }
  }

  // jdphuff.c decode_mcu_AC_refine: one correction bit for each coefficient already non-zero in the
  // band, and the run of zero coefficients counted over the ones still zero.
  private acRefine(ac: HuffmanTable, nz: Uint8Array, block: number): void {
    const { reader } = this;
    const { ss, se } = this.scan;
    let k = ss;
    if (this.eobrun === 0) {
      for (; k <= se; k++) {
        const rs = reader.decode(ac);
        let r = rs >> 4;
        const s = rs & 15;
        if (s !== 0) {
          if (s !== 1) throw corrupt(reader.pos, `${this.where()} (a refinement value of ${s} bits)`);
          reader.bit();
        } else if (r !== 15) {
          this.eobrun = (1 << r) + reader.receive(r);
          break;
        }
        do {
          if (isNonZero(nz, block, k)) reader.bit();
          else if (--r < 0) break;
          k++;
        } while (k <= se);
        if (s !== 0 && k <= 63) setNonZero(nz, block, k);
      }
    }
    if (this.eobrun > 0) {
      for (; k <= se; k++) if (isNonZero(nz, block, k)) reader.bit();
      this.eobrun--;
    }
  }
}

const setNonZero = (nz: Uint8Array, block: number, k: number) => { nz[block * 8 + (k >> 3)] |= 1 << (k & 7); };
const isNonZero = (nz: Uint8Array, block: number, k: number) => (nz[block * 8 + (k >> 3)] >> (k & 7)) & 1;

function readFrame(data: Uint8Array, at: number, end: number, code: number): Frame {
  const bad = () => corrupt(at, `its frame header at byte ${at} is malformed`);
  if (end - at < 10) throw bad();
  const height = (data[at + 5] << 8) | data[at + 6];
  const width = (data[at + 7] << 8) | data[at + 8];
  const count = data[at + 9];
  if (end - at < 10 + 3 * count || count === 0) throw bad();
  if (height === 0) throw unsupported(at, `its frame header at byte ${at} leaves the height to a DNL marker`);
  if (width === 0) throw bad();
  const components: FrameComponent[] = [];
  for (let i = 0; i < count; i++) {
    const o = at + 10 + 3 * i;
    const h = data[o + 1] >> 4, v = data[o + 1] & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw bad();
    components.push({ id: data[o], h, v, blocksPerLine: 0, blocksPerColumn: 0, scanned: false });
  }
  const maxH = Math.max(...components.map((c) => c.h)), maxV = Math.max(...components.map((c) => c.v));
  for (const c of components) {
    c.blocksPerLine = Math.ceil((width * c.h) / (maxH * 8));
    c.blocksPerColumn = Math.ceil((height * c.v) / (maxV * 8));
  }
  return {
    progressive: code === 0xc2,
    components,
    mcusPerLine: Math.ceil(width / (maxH * 8)),
    mcusPerColumn: Math.ceil(height / (maxV * 8)),
  };
}

function readScan(data: Uint8Array, at: number, end: number, frame: Frame, dcTables: HuffmanTable[], acTables: HuffmanTable[], label: string): Scan {
  const bad = (why: string) => corrupt(at, `the header of ${label} at byte ${at} ${why}`);
  const count = data[at + 4];
  if (end - at < 8 + 2 * count || count < 1 || count > 4) throw bad('is malformed');
  const ss = data[at + 5 + 2 * count], se = data[at + 6 + 2 * count];
  const ah = data[at + 7 + 2 * count] >> 4, al = data[at + 7 + 2 * count] & 15;
  const components: Scan['components'] = [];
  for (let i = 0; i < count; i++) {
    const id = data[at + 5 + 2 * i], tables = data[at + 6 + 2 * i];
    const comp = frame.components.find((c) => c.id === id);
    if (!comp) throw bad(`names component ${id}, which the frame does not have`);
    comp.scanned = true;
    components.push({ comp, dc: dcTables[tables >> 4] ?? standardTables().dc[tables >> 4], ac: acTables[tables & 15] ?? standardTables().ac[tables & 15] });
  }
  if (frame.progressive) {
    // jdphuff.c refuses these progression parameters outright (an error, not a warning).
    if ((ss === 0 && se !== 0) || (ss > 0 && (se < ss || se > 63 || count !== 1)) || (ah !== 0 && al !== ah - 1) || al > 13) {
      throw bad(`has invalid progression parameters (Ss ${ss}, Se ${se}, Ah ${ah}, Al ${al})`);
    }
  }
  const needDc = !frame.progressive || (ss === 0 && ah === 0);
  const needAc = !frame.progressive || ss > 0;
  for (const c of components) {
    if ((needDc && !c.dc) || (needAc && !c.ac)) throw bad(`uses a Huffman table the file does not define`);
    if (frame.progressive && ss > 0) c.comp.nonZero ??= new Uint8Array(c.comp.blocksPerLine * c.comp.blocksPerColumn * 8);
  }
  // A sequential scan is always read as coefficients 0..63; libjpeg only warns about other values
  // ("Invalid SOS parameters for sequential JPEG", written by some Samsung phones).
  return frame.progressive ? { components, ss, se, ah } : { components, ss: 0, se: 63, ah: 0 };
}

/**
 * Checks that every scan of a JPEG holds all of its image data; see the module comment. Reads every
 * Huffman code once (9 ms for a 1920x1280 baseline JPEG, 43 ms progressive, on one core), so the
 * decoder runs it only after a strict decode has failed.
 */
export function checkJpegData(data: Uint8Array): JpegDataReport {
  let scans = 0;
  try {
    if (data[0] !== 0xff || data[1] !== 0xd8) throw corrupt(0, 'it does not start with a JPEG start-of-image marker');
    let frame: Frame | undefined;
    const dcTables: HuffmanTable[] = [], acTables: HuffmanTable[] = [];
    let restartInterval = 0;
    let pos = 2;
    for (;;) {
      const marker = nextMarker(data, pos);
      if (marker === undefined) {
        if (scans === 0) throw missing(data.length, 'the file ends before its image data');
        return finish(frame!, scans, false, data.length);
      }
      const { at, code } = marker;
      if (code === 0xd9) {
        if (scans === 0) throw missing(at, `it holds no image data (an end marker at byte ${at})`);
        return finish(frame!, scans, true, at);
      }
      if (isParameterless(code)) { pos = at + 2; continue; }
      if (code === 0xd8) throw corrupt(at, `a second start-of-image marker at byte ${at}`);
      if (at + 4 > data.length) throw missing(data.length, `the file ends inside the ${hex(code)} marker at byte ${at}`);
      const end = at + 2 + ((data[at + 2] << 8) | data[at + 3]);
      if (end < at + 4) throw corrupt(at, `the ${hex(code)} marker at byte ${at} has an invalid length`);
      if (end > data.length) throw missing(data.length, `the file ends inside the ${hex(code)} segment at byte ${at}`);
      if (code === 0xc0 || code === 0xc1 || code === 0xc2) {
        if (frame) throw corrupt(at, `a second frame header at byte ${at}`);
        frame = readFrame(data, at, end, code);
      } else if ((code >= 0xc3 && code <= 0xcf) && code !== 0xc4 && code !== 0xc8 && code !== 0xcc) {
        const process = code >= 0xc9 ? 'arithmetic coding' : code === 0xc3 ? 'lossless coding' : 'hierarchical coding';
        throw unsupported(at, `it uses ${process} (frame header ${hex(code)} at byte ${at}), whose image data this check does not read`);
      } else if (code === 0xc4) {
        let o = at + 4;
        while (o < end) {
          if (o + 17 > end) throw corrupt(at, `its Huffman table at byte ${at} is malformed`);
          const spec = data[o];
          const counts = data.subarray(o + 1, o + 17);
          const n = counts.reduce((a, b) => a + b, 0);
          if (o + 17 + n > end || n > 256 || (spec & 15) > 3 || spec >> 4 > 1) throw corrupt(at, `its Huffman table at byte ${at} is malformed`);
          const table = buildHuffmanTable(counts, data.subarray(o + 17, o + 17 + n), at);
          (spec >> 4 === 0 ? dcTables : acTables)[spec & 15] = table;
          o += 17 + n;
        }
      } else if (code === 0xdd) {
        if (end - at < 6) throw corrupt(at, `its restart interval marker at byte ${at} is malformed`);
        restartInterval = (data[at + 4] << 8) | data[at + 5];
      } else if (code === 0xda) {
        if (!frame) throw corrupt(at, `a scan at byte ${at} comes before any frame header`);
        if (scans === MAX_SCANS) throw corrupt(at, `it holds more than ${MAX_SCANS} scans (encoders write about 10)`);
        scans++;
        const label = `scan ${scans}`;
        const scan = readScan(data, at, end, frame, dcTables, acTables, label);
        pos = checkScan(data, end, frame, scan, restartInterval, label);
        continue;
      }
      pos = end;
    }
  } catch (err) {
    if (err instanceof Stop) return { fault: err.fault, hasEndMarker: false, scans };
    throw err;
  }
}

/** At the end of the data: every component of the frame must have been in some scan. */
function finish(frame: Frame, scans: number, hasEndMarker: boolean, at: number): JpegDataReport {
  const unscanned = frame.components.filter((c) => !c.scanned);
  if (unscanned.length > 0) {
    const ids = unscanned.map((c) => c.id).join(', ');
    return { fault: { kind: 'missing', detail: `its data ends at byte ${at} before any scan of component${unscanned.length > 1 ? 's' : ''} ${ids}`, offset: at }, hasEndMarker, scans };
  }
  return { hasEndMarker, scans };
}
