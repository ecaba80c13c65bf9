import type { Logger } from "@callmesh/platform/logging.js";
import type { HeartbeatInit } from "../gateway-link.js";
import type { DiskSpool } from "../spool/disk-spool.js";
import { createCpuSampler, diskUsage, memoryUsage } from "./host-metrics.js";

export interface AgentHeartbeatDeps {
  spool: DiskSpool;
  spoolDir: string;
  /** Where the PBX writes recordings; its disk is reported when set. */
  recordingDir?: string;
  /** The PBX connection: whether logged in, and the version it reported. */
  pbx: { readonly connected: boolean; readonly pbxVersion: string };
  agentVersion: string;
  /** Calls the agent tracks now; 0 when the driver cannot tell. */
  activeCalls?: () => number | Promise<number>;
  logger: Logger;
  /** Host CPU use since the last heartbeat (default: `os.cpus()` deltas). */
  cpuPercent?: () => number;
}

/** Builds each heartbeat: host CPU over the last interval, memory, the spool's and recording disks, spool depth, PBX state. */
export function createAgentHeartbeat(deps: AgentHeartbeatDeps): () => Promise<HeartbeatInit> {
  const cpuPercent = deps.cpuPercent ?? createCpuSampler();
  const warned = new Set<string>();
  /** A disk that cannot be measured is left out of the heartbeat and logged once until it can be again. */
  const measure = async (path: string) => {
    try {
      const usage = await diskUsage(path);
      warned.delete(path);
      return usage;
    } catch (error) {
      if (!warned.has(path)) deps.logger.warn({ err: error, path }, "cannot measure disk for the heartbeat");
      warned.add(path);
      return undefined;
    }
  };
  return async () => {
    const stats = deps.spool.stats();
    const memory = memoryUsage();
    const [spoolDisk, recordingDisk, activeCalls] = await Promise.all([
      measure(deps.spoolDir),
      deps.recordingDir ? measure(deps.recordingDir) : undefined,
      Promise.resolve(deps.activeCalls?.() ?? 0).catch(() => 0),
    ]);
    return {
      pbxConnected: deps.pbx.connected,
      spoolDepth: BigInt(stats.depth),
      spoolBytes: BigInt(stats.bytes),
      spoolLimitBytes: BigInt(stats.limitBytes),
      cpuPercent: cpuPercent(),
      memoryUsedBytes: BigInt(memory.usedBytes),
      memoryTotalBytes: BigInt(memory.totalBytes),
      ...(spoolDisk ? { spoolDisk } : {}),
      ...(recordingDisk ? { recordingDisk } : {}),
      pbxVersion: deps.pbx.pbxVersion,
      agentVersion: deps.agentVersion,
      activeCalls,
    };
  };
}
