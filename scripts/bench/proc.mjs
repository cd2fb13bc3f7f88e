// CPU of the shared servers the benchmark runs against, read from /proc: Postgres backends and Redis.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system) so far of every Postgres and Redis process, by pid. With `dbName`, only the
 * Postgres backends serving that database (the stack run.mjs booted); without it, every one on the machine.
 */
export function serverCpuTicks(dbName) {
  const out = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const key = comm.startsWith('postgres') ? 'postgres' : comm.startsWith('redis-server') ? 'redis' : null;
      if (!key) continue;
      if (key === 'postgres' && dbName && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${dbName} `)) continue;
      const st = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
      out.set(pid, { key, secs: (Number(st[11]) + Number(st[12])) / 100 });
    } catch {}
  }
  return out;
}

/** Server CPU seconds used between two serverCpuTicks() snapshots (processes that exited meanwhile are not counted). */
export function serverCpuDelta(before, after) {
  const out = { postgres: 0, redis: 0 };
  for (const [pid, a] of after) out[a.key] += a.secs - (before.get(pid)?.secs ?? 0);
  return out;
}
