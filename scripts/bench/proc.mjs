// CPU of the shared servers the benchmark runs against, read from /proc: Postgres backends and Redis.
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of a /proc/<pid>/stat line after the command name: [0] the state, [1] the parent pid. */
export function statFields(raw) {
  return raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
}

/** CPU seconds (user + system) from statFields(). */
export function statCpuSeconds(fields) {
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds (user + system) one process has used so far; throws once it is gone. */
export function pidCpuSeconds(pid) {
  return statCpuSeconds(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8')));
}

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
      out.set(pid, { key, secs: statCpuSeconds(statFields(raw)) });
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
