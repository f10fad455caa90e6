import { readdirSync, readFileSync } from 'node:fs';

/** CPU time in seconds from /proc (Linux): utime + stime of a process, in clock ticks of 1/100 s. */
const TICKS_PER_SECOND = 100;

function processTicks(pid: number): { comm: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based), so indexes 11 and 12 here.
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  at: number;
  processes: Map<number, number>;
  /** Ticks per live `postgres` process: backends come and go (an idle pool closes its connections). */
  postgres: Map<number, number>;
  machine: { busy: number; total: number };
}

/** CPU used so far by the given processes, by every `postgres` process, and by the whole machine. */
export function cpuSnapshot(pids: number[]): CpuSnapshot {
  const processes = new Map<number, number>();
  for (const pid of pids) processes.set(pid, processTicks(pid)?.ticks ?? NaN);
  const postgres = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const found = processTicks(Number(entry));
    if (found?.comm === 'postgres') postgres.set(Number(entry), found.ticks);
  }
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const numbers = values.map(Number);
  const total = numbers.reduce((a, b) => a + b, 0);
  const idle = numbers[3] + (numbers[4] ?? 0); // idle + iowait
  return { at: Date.now(), processes, postgres, machine: { busy: total - idle, total } };
}

/** Average cores used between two snapshots: per given pid, by postgres, and by the machine. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot) {
  const seconds = (after.at - before.at) / 1000;
  const cores = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
  const processes = new Map<number, number>();
  for (const [pid, ticks] of after.processes)
    processes.set(pid, cores(ticks - (before.processes.get(pid) ?? NaN)));
  const machineShare =
    (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total);
  // What each backend alive at the end used since the start (all of it, if it started since). A
  // backend that exited in between is not counted: summing all ticks instead made the figure go
  // negative whenever a busy backend of an idle pool closed during the window.
  let postgresTicks = 0;
  for (const [pid, ticks] of after.postgres) postgresTicks += ticks - (before.postgres.get(pid) ?? 0);
  return { processes, postgres: cores(postgresTicks), machineBusyShare: machineShare };
}

/** Share (0..1) of the machine's CPU busy over `ms`, whoever uses it. */
export async function machineBusyShare(ms = 2_000): Promise<number> {
  const before = cpuSnapshot([]);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return cpuBetween(before, cpuSnapshot([])).machineBusyShare;
}

/**
 * The machine may be shared (a test suite, another bench): before measuring, wait (bounded) until it
 * is quiet, i.e. under `threshold` busy. Returns the last busy share seen, which the bench reports, so
 * a figure measured beside someone else's load says so.
 */
export async function waitForQuiet(boundS: number, threshold = 0.15): Promise<number> {
  const deadline = Date.now() + boundS * 1000;
  let busy = await machineBusyShare();
  while (busy > threshold && Date.now() < deadline) busy = await machineBusyShare();
  return busy;
}
