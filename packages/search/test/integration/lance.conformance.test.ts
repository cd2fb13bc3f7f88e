import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceSearchIndex, describeSearchIndexConformance } from '../../src/index.js';

let dir: string | undefined;

describeSearchIndexConformance(
  'LanceSearchIndex',
  async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'ragnest-lance-conf-'));
    return new LanceSearchIndex({ dir });
  },
  async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  },
);
