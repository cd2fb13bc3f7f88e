import pg from 'pg';

/**
 * A named statement: each connection has Postgres parse it once, then only binds values. Postgres plans its
 * first five runs with the values and may then keep a generic plan for good; `planEachTime` statements are
 * sent unnamed instead and planned with their values on every run. Use it for statements over sets of ids on
 * tables that grow from empty (chunk): a generic plan made while the table was nearly empty kept scanning
 * it whole once it had thousands of rows (measured: 19 ms instead of 0.5 ms per batch).
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
  readonly planEachTime?: boolean;
}

const LZ4 = "SET default_toast_compression = 'lz4'";

export const statement = (name: string, text: string, opts: { planEachTime?: boolean } = {}): Statement => ({ name, text, ...opts });

/** The pg query config of a statement. */
const config = (s: Statement, values: unknown[]) => (s.planEachTime ? { text: s.text, values } : { name: s.name, text: s.text, values });

/** Runs statements: the hot-path pool, one of its transactions, or a Prisma transaction (prismaSql). */
export interface Sql {
  rows<R extends pg.QueryResultRow>(s: Statement, values: unknown[]): Promise<R[]>;
  /** A write; resolves to the number of rows it touched. */
  run(s: Statement, values: unknown[]): Promise<number>;
}

/** What Prisma clients and transactions offer for raw statements. */
export interface PrismaRaw {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** Either runner: helpers shared by the hot-path pool and Prisma code take this. */
export type SqlLike = Sql | PrismaRaw;

/** A Prisma client or transaction as a Sql runner (the statements run unprepared, through Prisma). */
export function asSql(x: SqlLike): Sql {
  if ('run' in x) return x;
  return {
    rows: <R>(s: Statement, values: unknown[]) => x.$queryRawUnsafe<R[]>(s.text, ...values),
    run: (s, values) => x.$executeRawUnsafe(s.text, ...values),
  };
}

/**
 * Statements on the per-request hot paths (a retrieval's scope check and hit hydration, a chat turn's load
 * and its append) through a small pg pool of their own, as prepared statements. Prisma's raw-query layer
 * costs more CPU than these indexed lookups do in Postgres (measured: about a third of the API's CPU per
 * retrieval), and unnamed statements are planned on every call. Everything else keeps using Prisma.
 *
 * Values come back as pg parses them: text[] as string[], jsonb as objects, int8 as strings.
 */
export class HotReads implements Sql {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string, size = 4) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: size, idleTimeoutMillis: 60_000 });
    // an idle connection that drops (Postgres restart) must not crash the process; the next query reconnects
    this.pool.on('error', () => undefined);
    // Values this pool writes (chunk rows above all) are compressed with lz4 rather than pglz: writing a chunk
    // row spent about half its time in pglz, and lz4 is several times faster for values about a fifth larger.
    // Queued ahead of the connection's first query. A server without lz4 (older than 14, or built without it)
    // refuses the setting and keeps pglz; rows of both kinds read back alike.
    this.pool.on('connect', (client) => {
      client.query(LZ4).catch(() => undefined);
    });
  }

  async rows<R extends pg.QueryResultRow>(s: Statement, values: unknown[]): Promise<R[]> {
    const res = await this.pool.query<R>(config(s, values));
    return res.rows;
  }

  /** A write; resolves to the number of rows it touched. */
  async run(s: Statement, values: unknown[]): Promise<number> {
    const res = await this.pool.query(config(s, values));
    return res.rowCount ?? 0;
  }

  /**
   * Statements in one transaction on one connection: committed when `fn` resolves, rolled back when it throws.
   * For the writers of the ingest path (the index writer's stamp, the feed reader), where Prisma's interactive
   * transactions cost more CPU than the statements.
   */
  async transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const sql: Sql = {
      rows: async <R extends pg.QueryResultRow>(s: Statement, values: unknown[]) => (await client.query<R>(config(s, values))).rows,
      run: async (s, values) => (await client.query(config(s, values))).rowCount ?? 0,
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await fn(sql);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // a connection that cannot even roll back is discarded rather than returned to the pool mid-transaction
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
