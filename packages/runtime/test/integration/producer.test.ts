import { JobNames, Queues } from '@ragnest/contracts';
import { REDIS_URL, uniquePrefix } from '@ragnest/testkit';
import { QueueProducer, redisConnection } from '../../src/index.js';

test('index jobs for many chunks are split into batches of at most 500 ids, in order, nothing lost', async () => {
  const producer = new QueueProducer(redisConnection(REDIS_URL), uniquePrefix('producer'));
  try {
    const ids = Array.from({ length: 1201 }, (_, i) => `c${i}`);
    await producer.enqueueIndexChunks('doc-1', 3, ids);
    await producer.enqueueIndexChunks('doc-1', 3, []);
    const jobs = await producer.queue(Queues.index).getJobs(['waiting']);
    expect(jobs.every((j) => j.name === JobNames.indexChunks)).toBe(true);
    const batches = jobs.map((j) => j.data as { documentId: string; generation: number; chunkIds: string[] }).sort((a, b) => ids.indexOf(a.chunkIds[0]!) - ids.indexOf(b.chunkIds[0]!));
    expect(batches.map((b) => b.chunkIds.length)).toEqual([500, 500, 201]);
    expect(batches.flatMap((b) => b.chunkIds)).toEqual(ids);
    expect(batches.every((b) => b.documentId === 'doc-1' && b.generation === 3)).toBe(true);
    await producer.queue(Queues.index).obliterate({ force: true });
  } finally {
    await producer.close();
  }
});
