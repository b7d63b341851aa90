/**
 * CSV text in and out. {@link readCsvRecords} splits a manifest into records, each with the line it
 * starts on; {@link formatCsv} (with {@link csvRow} and {@link csvCell}) writes every CSV Phenoface
 * writes (`predictions.csv`, the synthetic and demo manifests), guarded against spreadsheet formula
 * injection. {@link stripFormulaGuard} undoes that guard, so a manifest Phenoface wrote reads back
 * as the values it was given.
 */
import { PhenofaceError } from '../errors.ts';

/** One record and the 1-based line it starts on, or a malformed record: why, and the line it starts on. */
export type CsvRecord = { fields: string[]; line: number } | { error: string; line: number };

const QUOTE = 0x22;
const LF = 0x0a;
const APOSTROPHE = 0x27;

/** Where a record ended: after its line end (or at the end of the text), and how many lines it used. */
type RecordEnd = { fields: string[]; next: number; lineBreaks: number } | { error: string; errorLineBreaks: number };

/**
 * The records of CSV text whose lines end in `\n` (normalise `\r\n` and `\r` first), each with the
 * line it starts on. RFC 4180 quoting: a quoted field may hold the delimiter, line breaks and `""`
 * for one quote. Quoting is strict, as in csv-parse's default mode: a quote inside an unquoted field,
 * or anything but the delimiter or a line end after a closing quote, makes the record malformed, and
 * so does a quote never closed. Empty lines are skipped; records may have any number of fields.
 *
 * A malformed record is yielded once, at the line it starts on, and reading goes on at the next
 * line, so one stray quote costs one problem and the rows after it are still read. This takes
 * linear time: the lines of a failed multi-line record were inside its quotes, so read again from
 * outside quotes each ends its own record (or fails on its own line) until reading passes the
 * failure, and no text is read more than a few times.
 *
 * Hand-written because the library was measured to be the problem: csv-parse gives a record's line
 * only through its per-record info object, which made it ~9 s per million rows on a 2-core machine
 * (~2.3 s without line numbers) against a 10 s budget for validating the whole manifest, and its
 * recovery after a broken quote stays inside the quote to the end of the file. `bench:manifest`
 * times both on the same text.
 */
export function* readCsvRecords(text: string, delimiter = ','): Generator<CsvRecord> {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n') {
    throw new PhenofaceError('E_INPUT', `Invalid CSV delimiter ${JSON.stringify(delimiter)}: expected one character other than a quote or a line end.`);
  }
  const delim = delimiter.charCodeAt(0);
  let pos = 0;
  let line = 1;
  while (pos < text.length) {
    if (text.charCodeAt(pos) === LF) {
      pos++;
      line++;
      continue;
    }
    const end = readRecord(text, pos, delim, delimiter);
    if ('error' in end) {
      const found = end.errorLineBreaks > 0 ? ` (found on line ${line + end.errorLineBreaks}, inside a quoted value that starts on this line)` : '';
      yield { error: end.error + found, line };
      const lineEnd = text.indexOf('\n', pos);
      pos = lineEnd === -1 ? text.length : lineEnd + 1;
      line++;
    } else {
      yield { fields: end.fields, line };
      pos = end.next;
      line += end.lineBreaks;
    }
  }
}

/** At most 40 characters of `value` for a message, marked when cut. */
const excerpt = (value: string) => (value.length > 40 ? `${value.slice(0, 40)}...` : value);

/** Read the record starting at `start` (not on an empty line). */
function readRecord(text: string, start: number, delim: number, delimiter: string): RecordEnd {
  const fields: string[] = [];
  let pos = start;
  let lineBreaks = 0;
  for (;;) {
    const field = fields.length + 1;
    if (text.charCodeAt(pos) === QUOTE) {
      let value = '';
      let from = pos + 1;
      for (;;) {
        let q = from;
        while (q < text.length && text.charCodeAt(q) !== QUOTE) {
          if (text.charCodeAt(q) === LF) lineBreaks++;
          q++;
        }
        if (q === text.length) return { error: `Quote Not Closed: the quote opening field ${field} is never closed (a quote inside a quoted value is written "")`, errorLineBreaks: 0 };
        value += text.slice(from, q);
        const after = q + 1 < text.length ? text.charCodeAt(q + 1) : -1;
        if (after === QUOTE) {
          value += '"';
          from = q + 2;
          continue;
        }
        if (after !== delim && after !== LF && after !== -1) {
          return {
            error: `Invalid Closing Quote: got ${JSON.stringify(text[q + 1])} instead of delimiter ${JSON.stringify(delimiter)} or a line end after the quote closing field ${field} (a quote inside a quoted value is written "")`,
            errorLineBreaks: lineBreaks,
          };
        }
        pos = q + 1;
        break;
      }
      fields.push(value);
    } else {
      let q = pos;
      for (; q < text.length; q++) {
        const c = text.charCodeAt(q);
        if (c === delim || c === LF) break;
        if (c === QUOTE) {
          return {
            error: `Invalid Opening Quote: a quote inside unquoted field ${field}, value so far ${JSON.stringify(excerpt(text.slice(pos, q)))} (quote the whole value and write each quote in it as "")`,
            errorLineBreaks: lineBreaks,
          };
        }
      }
      fields.push(text.slice(pos, q));
      pos = q;
    }
    if (pos >= text.length) return { fields, next: pos, lineBreaks };
    if (text.charCodeAt(pos) === LF) return { fields, next: pos + 1, lineBreaks: lineBreaks + 1 };
    pos++; // the delimiter
  }
}

/** A cell's value: text, or a number or boolean written as is, or nothing (an empty cell). */
export type CsvValue = string | number | boolean | null | undefined;

/**
 * Text a spreadsheet would read as a formula: it starts with `=`, `+`, `-`, `@`, tab or carriage
 * return (OWASP, "CSV Injection") or NUL (ASVS 1.2.10). Leading guards (`'`) are skipped so that
 * text which already starts with the guard gets one more and {@link stripFormulaGuard} gives it back.
 */
const FORMULA_START = /^'*[=+\-@\t\r\0]/;
/** A guarded cell: at least one `'` before a formula character. */
const GUARDED = /^'+[=+\-@\t\r\0]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled.
 * Text that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+1`, `-2+3`, `@SUM(...)`, or
 * one starting with tab or CR) gets a leading `'` and is quoted, as OWASP advises: subject ids and
 * file names come from outside, and these files are opened in spreadsheets. Numbers are not guarded:
 * they are values Phenoface formats itself, and `-0.5` must stay a negative number, so pass numbers
 * as numbers, not as text (a subject id `-5` is text and is guarded).
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const guarded = FORMULA_START.test(value);
  const text = guarded ? `'${value}` : value;
  return guarded || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (without its line end): the cells of {@link csvCell}, comma-separated. */
export function csvRow(values: readonly CsvValue[]): string {
  return values.map(csvCell).join(',');
}

/**
 * A whole CSV file: the header, then one line per row, each ending in `\n` (the line end of
 * Phenoface's other text files; RFC 4180 readers and spreadsheets accept it). Every CSV Phenoface
 * writes goes through here, so every cell is quoted and guarded the same way, including manifests
 * meant for Phenoface itself: its manifest reader removes the guard ({@link stripFormulaGuard}), and a
 * person opening such a manifest in a spreadsheet is as exposed as one opening `predictions.csv`.
 */
export function formatCsv(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  const lines = [csvRow(header)];
  for (const row of rows) lines.push(csvRow(row));
  return lines.join('\n') + '\n';
}

/**
 * The value a cell stood for before {@link csvCell} guarded it: one leading `'` removed when a
 * formula character follows it (after any further `'`). Text that never needed the guard is
 * unchanged, so `'quoted'` stays as it is; other programs that follow OWASP's advice write the same
 * guard, and it is removed from their files too.
 */
export function stripFormulaGuard(cell: string): string {
  return cell.charCodeAt(0) === APOSTROPHE && GUARDED.test(cell) ? cell.slice(1) : cell;
}
