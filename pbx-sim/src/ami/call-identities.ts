import { randomUUID } from "node:crypto";
import type { CallAllocation } from "./call-render.js";
import type { CaptureTemplate } from "./capture-template.js";

export interface CallIdentities {
  /**
   * Fresh ids for one played call: Uniqueids and channel-name counters continue from the last call,
   * as Asterisk's global counters do, and recorded times move to `nowUs`.
   */
  allocate(template: CaptureTemplate, options: { nowUs: number; ringDeltaUs?: number }): CallAllocation;
  /** One more channel a modeled event creates: its `<tech>/<resource>-<hex8>` counter and Uniqueid, from the same counters. */
  channel(tech: string, nowUs: number): { readonly counter: number; readonly uniqueid: string };
}

export function createCallIdentities(bootSec: number): CallIdentities {
  let nextUniqueid = 1;
  let nextSipCallId = 1;
  const nextChannel = new Map<string, number>();
  return {
    allocate(template, { nowUs, ringDeltaUs = 0 }) {
      const firstUs = template.blocks[0]?.atUs ?? 0;
      const firstChannel: Record<string, number> = {};
      for (const [tech, span] of Object.entries(template.channelSpans)) {
        const first = nextChannel.get(tech) ?? 1;
        firstChannel[tech] = first;
        nextChannel.set(tech, first + span);
      }
      const firstUniqueid = nextUniqueid;
      nextUniqueid += Math.max(0, ...template.uniqueids.map((id) => id.counterOffset)) + 1;
      const firstSipCallId = nextSipCallId;
      nextSipCallId += template.sipCallIdCount;
      return {
        // Whole seconds: keeps Uniqueid epochs, CEL EventTime and Cdr times exactly as consistent as recorded.
        shiftUs: Math.floor((nowUs - firstUs) / 1_000_000) * 1_000_000,
        ringDeltaUs,
        firstUniqueid,
        firstChannel,
        uuids: Array.from({ length: template.uuidCount }, () => randomUUID()),
        firstSipCallId,
        bootSec,
      };
    },
    channel(tech, nowUs) {
      const counter = nextChannel.get(tech) ?? 1;
      nextChannel.set(tech, counter + 1);
      const uniqueid = `${Math.floor(nowUs / 1_000_000)}.${nextUniqueid++}`;
      return { counter, uniqueid };
    },
  };
}
