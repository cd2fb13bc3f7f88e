import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { loadConfig } from '@ragnest/config';
import { JobNames, Queues, type JobPayload } from '@ragnest/contracts';
import { REDIS_URL, uniquePrefix } from '@ragnest/testkit';
import { JobHandler, QueueProducer, RuntimeModule, redisConnection } from '../../src/index.js';

function config(prefix: string) {
  return loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, JOB_LOCK_MS: '2000', SHUTDOWN_GRACE_MS: '2000' });
}

describe('WorkerHost', () => {
  test('refuses to boot when an owned job has no handler', async () => {
    @Module({ imports: [RuntimeModule.forRoot(config(uniquePrefix('wh')), { worker: { queues: [{ queue: Queues.index, concurrency: 1 }] } })] })
    class NoHandlers {}
    await expect(NestFactory.createApplicationContext(NoHandlers, { logger: false, abortOnError: false }).then((a) => a.init())).rejects.toThrow(
      /has no handler/,
    );
  });

  test('refuses to boot when a job has two handlers', async () => {
    @Injectable()
    class A {
      @JobHandler(JobNames.parseTask)
      h() {}
    }
    @Injectable()
    class B {
      @JobHandler(JobNames.parseTask)
      h() {}
    }
    @Module({
      imports: [RuntimeModule.forRoot(config(uniquePrefix('wh')), { worker: { queues: [{ queue: Queues.ingest, concurrency: 1 }] } })],
      providers: [A, B],
    })
    class Two {}
    await expect(NestFactory.createApplicationContext(Two, { logger: false, abortOnError: false }).then((a) => a.init())).rejects.toThrow(/two handlers/);
  });

  test('runs validated jobs once per deterministic id; invalid payloads are refused at enqueue', async () => {
    const prefix = uniquePrefix('wh');
    const seen: JobPayload<typeof JobNames.parseTask>[] = [];
    @Injectable()
    class Parse {
      @JobHandler(JobNames.parseTask)
      async h(p: JobPayload<typeof JobNames.parseTask>) {
        seen.push(p);
      }
    }
    @Module({ imports: [RuntimeModule.forRoot(config(prefix), { worker: { queues: [{ queue: Queues.ingest, concurrency: 2 }] } })], providers: [Parse] })
    class Ok {}
    const app = await NestFactory.createApplicationContext(Ok, { logger: false });
    await app.init();
    const producer = new QueueProducer(redisConnection(REDIS_URL), prefix);
    try {
      const payload = { taskId: 't1', documentId: 'd1', generation: 3 };
      await producer.enqueue(JobNames.parseTask, payload, { jobId: 'parse.t1.3' });
      await producer.enqueue(JobNames.parseTask, payload, { jobId: 'parse.t1.3' });
      await expect(producer.enqueue(JobNames.parseTask, { taskId: '', documentId: 'd1', generation: -1 } as never)).rejects.toThrow();
      const deadline = Date.now() + 5000;
      while (seen.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([{ ...payload, meta: {} }]);
    } finally {
      await producer.close();
      await app.close();
      const q = new Queue(Queues.ingest, { connection: redisConnection(REDIS_URL), prefix });
      await q.obliterate({ force: true });
      await q.close();
    }
  });
});
