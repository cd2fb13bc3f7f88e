import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import { DomainError, DependencyUnavailableError } from '@ragnest/contracts';
import { REDIS_URL, deferred, settlesWithin, uniquePrefix } from '@ragnest/testkit';
import { Redis } from 'ioredis';
import { RedisListClient, RedisListServer } from '../../src/index.js';
import { requestListKey } from '../../src/rpc/protocol.js';

const served: string[] = [];

function makeModule(replica: string) {
  @Controller()
  class Echo {
    @MessagePattern('retrieval.ping.v1')
    ping() {
      served.push(replica);
      return { servedBy: replica };
    }
    @MessagePattern('retrieval.search.v1')
    fail(@Payload() data: { code: number }) {
      throw new RpcException({ code: data.code, message: 'You don\'t own the dataset x.' });
    }
  }
  @Module({ controllers: [Echo] })
  class M {}
  return M;
}

describe('Redis-list RPC transport', () => {
  const prefix = uniquePrefix('rpc');
  const apps: INestMicroservice[] = [];
  let client: RedisListClient;

  beforeAll(async () => {
    for (const replica of ['a', 'b']) {
      const app = await NestFactory.createMicroservice(makeModule(replica), {
        strategy: new RedisListServer({ url: REDIS_URL, prefix, group: 'retrieval', concurrency: 4, replicaId: replica }),
        logger: false,
      });
      await app.listen();
      apps.push(app);
    }
    client = new RedisListClient({ url: REDIS_URL, prefix, timeoutMs: 3000 });
  });
  afterAll(async () => {
    await client.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  test('two replicas share the requests: each request is answered exactly once', async () => {
    served.length = 0;
    const n = 60;
    const replies = await Promise.all(Array.from({ length: n }, () => client.call('retrieval.ping.v1', {})));
    expect(replies).toHaveLength(n);
    // pub/sub would make every replica handle every request (2n); a work queue handles each once
    expect(served).toHaveLength(n);
    const a = served.filter((s) => s === 'a').length;
    const b = served.filter((s) => s === 'b').length;
    expect(a + b).toBe(n);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(new Set(replies.map((r) => r.servedBy))).toEqual(new Set(['a', 'b']));
  });

  test('a coded error raised by the handler comes back as a DomainError', async () => {
    await expect(client.call('retrieval.search.v1', { code: 102 } as never)).rejects.toEqual(
      expect.objectContaining({ code: 102, message: "You don't own the dataset x." }),
    );
    await expect(client.call('retrieval.search.v1', { code: 102 } as never)).rejects.toBeInstanceOf(DomainError);
  });

  test('no replica listening: the call times out as a dependency failure, and the unread request list expires', async () => {
    const lonelyPrefix = uniquePrefix('rpc-none');
    const lonely = new RedisListClient({ url: REDIS_URL, prefix: lonelyPrefix, timeoutMs: 300 });
    const redis = new Redis(REDIS_URL);
    try {
      await expect(lonely.call('retrieval.ping.v1', {})).rejects.toBeInstanceOf(DependencyUnavailableError);
      const key = requestListKey(lonelyPrefix, 'retrieval');
      expect(await redis.llen(key)).toBe(1);
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(3_500_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      await redis.del(key);
    } finally {
      await lonely.close();
      redis.disconnect();
    }
  });

  test('every reply renews its list\'s expiry, so a caller that went away leaves nothing behind for long', async () => {
    const redis = new Redis(REDIS_URL);
    const replyTo = `${prefix}:rpc:reply:gone-${Date.now()}`;
    try {
      // a request from a caller that will never read its reply
      const env = { id: 'r1', pattern: 'retrieval.ping.v1', data: {}, replyTo, deadline: Date.now() + 5_000 };
      await redis.lpush(requestListKey(prefix, 'retrieval'), JSON.stringify(env));
      for (let i = 0; i < 50 && (await redis.llen(replyTo)) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await redis.llen(replyTo)).toBe(1);
      const ttl = await redis.pttl(replyTo);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      await redis.del(replyTo);
      redis.disconnect();
    }
  });
});

describe('a replica that is not ready yet', () => {
  const prefix = uniquePrefix('rpc-gate');
  let client: RedisListClient;
  const started: INestMicroservice[] = [];

  async function replica(name: string, gate?: () => Promise<unknown>) {
    const server = new RedisListServer({ url: REDIS_URL, prefix, group: 'retrieval', concurrency: 4, replicaId: name });
    if (gate) server.takeRequestsAfter(gate);
    const app = await NestFactory.createMicroservice(makeModule(name), { strategy: server, logger: false });
    await app.listen();
    started.push(app);
    return app;
  }

  beforeAll(() => {
    client = new RedisListClient({ url: REDIS_URL, prefix, timeoutMs: 3000 });
  });
  afterAll(async () => {
    await client.close();
    await Promise.all(started.map((a) => a.close()));
  });

  test('takes no request before its gate opens: a ready replica answers them all, then it takes its share', async () => {
    const gate = deferred();
    await replica('loading', () => gate.promise);
    const ready = await replica('ready');
    served.length = 0;
    await Promise.all(Array.from({ length: 40 }, () => client.call('retrieval.ping.v1', {})));
    expect(served.filter((s) => s === 'loading')).toEqual([]);
    expect(served.filter((s) => s === 'ready')).toHaveLength(40);
    // the only replica left is still closed: a request waits in the list until its gate opens
    await ready.close();
    served.length = 0;
    const pending = client.call('retrieval.ping.v1', {});
    expect(await settlesWithin(pending, 300)).toBe(false);
    expect(served).toEqual([]);
    gate.resolve();
    await expect(pending).resolves.toEqual({ servedBy: 'loading' });
    expect(served).toEqual(['loading']);
  });

  test('closing while the gate is shut does not wait for it to open', async () => {
    const never = await replica('never', () => new Promise(() => undefined));
    const t0 = Date.now();
    await never.close();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
