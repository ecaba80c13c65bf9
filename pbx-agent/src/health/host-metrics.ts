import { statfs } from "node:fs/promises";
import { cpus, freemem, totalmem } from "node:os";

/** CPU time of all cores, in ms, as `os.cpus()` counts it. */
interface CpuTimes {
  busy: number;
  total: number;
}

/**
 * The host's CPU use between two calls, 0 to 100 (all cores together), from `os.cpus()`
 * deltas. The first call measures from when the sampler was made.
 */
export function createCpuSampler(read: () => CpuTimes = readCpuTimes): () => number {
  let last = read();
  return () => {
    const now = read();
    const total = now.total - last.total;
    const busy = now.busy - last.busy;
    last = now;
    if (total <= 0) return 0;
    return Math.min(100, Math.max(0, (busy / total) * 100));
  };
}

function readCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    busy += all - times.idle;
    total += all;
  }
  return { busy, total };
}

/** Host memory in use (total minus what the OS reports free or reclaimable) and in all, in bytes. */
export function memoryUsage(): { usedBytes: number; totalBytes: number } {
  const totalBytes = totalmem();
  return { usedBytes: Math.max(0, totalBytes - freemem()), totalBytes };
}

/** Free (for an unprivileged process) and total bytes of the file system holding `path`. */
export async function diskUsage(path: string): Promise<{ path: string; freeBytes: bigint; totalBytes: bigint }> {
  const stats = await statfs(path, { bigint: true });
  return { path, freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}
