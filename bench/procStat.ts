/**
 * Processes seen through Linux's /proc, for benches that measure the CPU of a server or a worker
 * running beside them: CPU time of a pid, the process listening on a TCP port, a process's
 * command line, and the PostgreSQL backends of one database. Everything returns undefined/[] off
 * Linux or for a process we may not read, so a bench prints "n/a" rather than failing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of utime/stime (`getconf CLK_TCK`, 100 almost everywhere). */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of `pid` (all its threads) in clock ticks, from /proc/<pid>/stat; undefined when gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14 and stime 15 (1-based).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** The command line of `pid` as its arguments (a renamed process, like a PostgreSQL backend, gives its title). */
export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
  } catch {
    return [];
  }
}

function pids(): number[] {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
}

/**
 * The pid of the process listening on TCP `port` (any local address), found through the socket's
 * inode in /proc/net/tcp{,6} and the process holding it among /proc/<pid>/fd; undefined when the
 * listener is not ours to see (another user's process, another network namespace).
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt(f[1].split(':')[1], 16) === port && f[9] !== '0') inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  for (const pid of pids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/**
 * The PostgreSQL backends connected to `database` now: processes titled
 * `postgres: [<cluster>:] <user> <database> <client> <state>` (PostgreSQL's update_process_title,
 * on by default; Debian's clusters name themselves, e.g. "15/main:").
 */
export function postgresBackendsOf(database: string): number[] {
  return pids().filter((pid) => {
    const title = cmdline(pid).join(' ').trim().split(/\s+/);
    if (title[0] !== 'postgres:') return false;
    const rest = title[1]?.endsWith(':') ? title.slice(2) : title.slice(1);
    return rest[1] === database;
  });
}

/** CPU time of a changing set of processes between `start()` and `read()`. */
export class CpuMeter {
  private readonly from = new Map<number, number>();
  private startedAt = 0;
  private readonly which: () => number[];

  /** `which()` is called at start and at read: pids first seen at read count from zero. */
  constructor(which: () => number[]) {
    this.which = which;
  }

  start(): void {
    this.from.clear();
    for (const pid of this.which()) {
      const t = cpuTicks(pid);
      if (t !== undefined) this.from.set(pid, t);
    }
    this.startedAt = performance.now();
  }

  /**
   * CPU used since start() in % of one core, or undefined when no process was found. A process
   * that ended in between is not counted: its last ticks are gone with it.
   */
  read(): { pct: number | undefined; pids: number[]; cpuMs: number; wallMs: number } {
    const wallMs = performance.now() - this.startedAt;
    let ticks = 0;
    const seen: number[] = [];
    for (const pid of new Set([...this.from.keys(), ...this.which()])) {
      const t = cpuTicks(pid);
      if (t === undefined) continue;
      seen.push(pid);
      ticks += t - (this.from.get(pid) ?? 0);
    }
    const cpuMs = (ticks * 1000) / CLOCK_TICKS;
    return { pct: seen.length ? (100 * cpuMs) / wallMs : undefined, pids: seen, cpuMs, wallMs };
  }
}
