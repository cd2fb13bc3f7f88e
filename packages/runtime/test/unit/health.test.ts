import { runHealthChecks } from '../../src/bootstrap.js';

test('health checks: null when healthy, the reason when failing, a timeout when silent', async () => {
  const res = await runHealthChecks(
    {
      ok: async () => 'pong',
      down: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
      silent: () => new Promise(() => undefined),
    },
    100,
  );
  expect(res).toEqual({ ok: null, down: 'connect ECONNREFUSED 127.0.0.1:6379', silent: 'silent did not answer within 100 ms' });
});
