/** Text from the user's files made safe to write to a terminal. */

/**
 * Text for a terminal with its control and format characters (other than line breaks and tabs)
 * written as `\u{...}`: a photo's path or a message quoting one comes from the user's files, and a
 * terminal escape or a right-to-left override in it would rewrite what the terminal shows.
 */
export function printable(text: string): string {
  return text.replace(/[^\P{Cc}\n\t]|\p{Cf}/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/**
 * A line of text for one photo, with every control character written as `\u{...}`, line breaks
 * and tabs too: a photo's name may hold a line break, and "a line of text per photo" must stay one
 * line (a name could otherwise also forge the next photo's line).
 */
export function printableLine(text: string): string {
  return text.replace(/\p{Cc}|\p{Cf}/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
