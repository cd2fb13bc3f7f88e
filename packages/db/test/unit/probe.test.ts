import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as lancedb from '@lancedb/lancedb';
import { PrismaClient } from '@ragnest/db';
import { PrismaPg } from '@prisma/adapter-pg';
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';
import { xxh64 } from '@node-rs/xxhash';

@Injectable()
class Svc { hello() { return 'hi'; } }
@Injectable()
class User { constructor(readonly svc: Svc) {} }
@Module({ providers: [Svc, User] })
class M {}

test('probe', async () => {
  const app = await NestFactory.createApplicationContext(M, { logger: false });
  expect(app.get(User).svc.hello()).toBe('hi');
  await app.close();
  const db = await lancedb.connect('/tmp/lprobe');
  const t = await db.createTable('t', [{ id: 'a', text: 'hello world', vector: [1, 0] }, { id: 'b', text: 'other thing', vector: [0, 1] }], { mode: 'overwrite' });
  await t.createIndex('text', { config: lancedb.Index.fts({ baseTokenizer: 'whitespace' }) });
  await t.add([{ id: 'c', text: 'hello there', vector: [0.7, 0.7] }]);
  const r = await t.search('hello', 'fts').limit(5).toArray();
  console.log(r.map((x) => x.id));
  const v = await t.vectorSearch([1, 0]).distanceType('cosine').limit(2).toArray();
  console.log(v.map((x) => [x.id, x._distance]));
  const p = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' }) });
  console.log(await p.$queryRaw`select 1 as x`);
  await p.$disconnect();
  const j = Jieba.withDict(dict);
  console.log(j.cut('我们中出了一个叛徒 RAGFlow PPR-9087', false), j.cutForSearch('中华人民共和国', true));
  console.log(xxh64('abc' + 'doc').toString(16));
});
