/** Error records name a file as the user gave it, never by this machine's folders. */
import { describe, expect, it } from 'vitest';
import { namedAsGiven } from '../../src/errors.ts';

describe('namedAsGiven', () => {
  it('replaces the opened path with the given one, as written and as quoted in JSON (a quote, backslash or control character escaped)', () => {
    for (const given of ['images/a.jpg', 'images/\u001b[2Jx.jpg', 'images/say "hi".jpg', 'images\\back.jpg', 'images/bell\u0007.jpg']) {
      const opened = `/home/clinic/patients/${given}`;
      const raw = namedAsGiven({ code: 'E_DECODE', message: `Image file ${opened} is empty.` }, opened, given);
      expect(raw.message).toBe(`Image file ${given} is empty.`);
      const quoted = namedAsGiven({ code: 'E_NOT_FOUND', message: `Image file ${JSON.stringify(opened)} does not exist.` }, opened, given);
      expect(quoted.message).toBe(`Image file ${JSON.stringify(given)} does not exist.`);
    }
  });

  it('leaves a record alone when the path was opened as given', () => {
    const error = { code: 'E_DECODE', message: 'Image file "a.jpg" is truncated.' };
    expect(namedAsGiven(error, 'a.jpg', 'a.jpg')).toBe(error);
    expect(namedAsGiven(error, undefined, 'a.jpg')).toBe(error);
  });
});
