import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";

/** Which agent reported a call, so that a command for it goes to that agent's PBX. */
export interface CallOwner {
  readonly tenantId: string;
  readonly agentId: string;
}

/**
 * In-memory index call id → (tenant, agent), fed by every call event the gateway stores and
 * dropped at the call's hangup. It is a hint, not the truth: after a gateway restart it is
 * empty and call control asks the tenant's agents instead (domain/call-control.ts). Bounded:
 * past `limit` calls (hangups lost with an agent's disk, say), the oldest entries go first.
 */
export function createCallIndex(options: { limit?: number } = {}) {
  const limit = options.limit ?? 100_000;
  const owners = new Map<string, CallOwner>();

  function remember(callId: string, owner: CallOwner): void {
    owners.delete(callId);
    owners.set(callId, owner);
    if (owners.size > limit) {
      const oldest = owners.keys().next().value;
      if (oldest !== undefined) owners.delete(oldest);
    }
  }

  return {
    /** Takes an event already stamped with the tenant and agent of the stream. */
    observe(event: CallEvent): void {
      if (!event.callId) return;
      if (event.kind === CallEventKind.HANGUP) owners.delete(event.callId);
      else if (owners.get(event.callId)?.agentId !== event.agentId) {
        remember(event.callId, { tenantId: event.tenantId, agentId: event.agentId });
      }
    },
    remember,
    forget(callId: string): void {
      owners.delete(callId);
    },
    ownerOf(callId: string): CallOwner | undefined {
      return owners.get(callId);
    },
    get size(): number {
      return owners.size;
    },
  };
}

export type CallIndex = ReturnType<typeof createCallIndex>;
