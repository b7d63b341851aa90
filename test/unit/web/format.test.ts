/** The web app's wording of class names, which come from the study's manifest. */
import { describe, expect, it } from 'vitest';
import { className } from '../../../web/src/format.ts';

describe('className', () => {
  it('names the known classes as a clinician reads them', () => {
    expect(className('VCFS')).toBe('22q11.2 deletion syndrome');
    expect(className('control')).toBe('no syndrome (control)');
    expect(className('noonan')).toBe('noonan');
  });

  it('shows classes named like built-in properties as they are, not what an object inherits under that name', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) expect(className(name)).toBe(name);
  });
});
