/**
 * A shared report must not say where patients' photos live on the server: failed photos are named
 * by their manifest path, and their error messages lose the data set's absolute folder.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { relativeToDataset } from '../../../src/report/index.ts';

describe('relativeToDataset', () => {
  const root = path.join(path.sep, 'srv', 'hospital', 'photos');
  const item = { path: 'vcfs/p01/a.jpg', absPath: path.join(root, 'vcfs', 'p01', 'a.jpg') };

  it('replaces the photo\'s absolute path by its manifest path', () => {
    const message = `Image file ${JSON.stringify(item.absPath)} is truncated or corrupt.`;
    expect(relativeToDataset(message, item, root)).toBe('Image file "vcfs/p01/a.jpg" is truncated or corrupt.');
  });

  it('strips the data set folder from other paths in the message, and leaves other text alone', () => {
    const other = path.join(root, 'control', 'c02', 'b.jpg');
    expect(relativeToDataset(`Same bytes as ${other}.`, item, root)).toBe('Same bytes as control/c02/b.jpg.');
    expect(relativeToDataset('No face found.', item, root)).toBe('No face found.');
    expect(relativeToDataset(`x ${item.absPath}`, item, root + path.sep)).toBe('x vcfs/p01/a.jpg');
  });
});
