import { type CallOrigin, TrackedCall } from "./esl-call.js";
import type { LegRole, TrackedLeg } from "./esl-leg.js";

/**
 * What an ESL call keeps on disk while it is in progress (`<spool dir>/calls/<first leg>.call`,
 * drivers/call-state-file.ts): everything the tracker knows of it, so that an agent restarted
 * mid-call carries on with the same id, the next sequence, no second start, and its Cdr whole
 * (the legs already gone included). Version 1.
 */
export interface EslCallSnapshot {
  readonly v: 1;
  readonly pbxCallId: string;
  readonly callId: string;
  readonly origin: CallOrigin;
  readonly sequence: number;
  readonly fromNumber: string;
  readonly toNumber: string;
  readonly callerIdNumber: string;
  readonly callerIdName: string;
  readonly trunk: string;
  readonly queue: string;
  readonly trunkDialed: boolean;
  readonly extensionDialed: boolean;
  readonly rung: readonly string[];
  readonly answeredExtensions: readonly string[];
  readonly answeredUs: number | null;
  readonly answeredBy: string;
  readonly connectedTo: string;
  readonly transferredTo: string;
  readonly agentAnswered: boolean;
  readonly parkedAt: string;
  readonly heldLegs: readonly string[];
  readonly variableNames: readonly string[];
  readonly variables: Readonly<Record<string, string>>;
  readonly legs: readonly LegSnapshot[];
}

interface LegSnapshot {
  readonly uuid: string;
  readonly channel: string;
  readonly extension: string;
  readonly trunk: string;
  readonly destination: string;
  readonly role: LegRole;
  readonly order: number;
  readonly startedUs: number;
  readonly answeredUs: number | null;
  readonly hungUpUs: number | null;
  readonly completedUs: number | null;
  readonly causeName: string;
  readonly q850: number;
  readonly sipCode: number;
  readonly billsec: number | null;
}

export function snapshotEslCall(call: TrackedCall): EslCallSnapshot {
  return {
    v: 1,
    pbxCallId: call.pbxCallId,
    callId: call.callId,
    origin: call.origin,
    sequence: call.sequence,
    fromNumber: call.fromNumber,
    toNumber: call.toNumber,
    callerIdNumber: call.callerIdNumber,
    callerIdName: call.callerIdName,
    trunk: call.trunk,
    queue: call.queue,
    trunkDialed: call.trunkDialed,
    extensionDialed: call.extensionDialed,
    rung: [...call.rung],
    answeredExtensions: [...call.answeredExtensions],
    answeredUs: call.answeredUs ?? null,
    answeredBy: call.answeredBy,
    connectedTo: call.connectedTo,
    transferredTo: call.transferredTo,
    agentAnswered: call.agentAnswered,
    parkedAt: call.parkedAt,
    heldLegs: [...call.heldLegs],
    variableNames: [...call.variableNames],
    variables: Object.fromEntries(call.variables),
    legs: [...call.legs.values()].map((leg) => ({
      uuid: leg.uuid,
      channel: leg.channel,
      extension: leg.extension,
      trunk: leg.trunk,
      destination: leg.destination,
      role: leg.role,
      order: leg.order === Number.MAX_SAFE_INTEGER ? -1 : leg.order,
      startedUs: leg.startedUs,
      answeredUs: leg.answeredUs ?? null,
      hungUpUs: leg.hungUpUs ?? null,
      completedUs: leg.completedUs ?? null,
      causeName: leg.causeName,
      q850: leg.q850,
      sipCode: leg.sipCode,
      billsec: leg.billsec ?? null,
    })),
  };
}

const orUndefined = (value: number | null) => (value === null ? undefined : value);

/** The call a snapshot describes, or why it cannot be used. */
export function restoreEslCall(state: unknown): TrackedCall | { reason: string } {
  const snapshot = state as Partial<EslCallSnapshot> | null;
  if (snapshot === null || typeof snapshot !== "object" || snapshot.v !== 1) return { reason: "not an ESL call state" };
  const legs: TrackedLeg[] = (snapshot.legs ?? []).map((leg) => ({
    ...leg,
    order: leg.order < 0 ? Number.MAX_SAFE_INTEGER : leg.order,
    answeredUs: orUndefined(leg.answeredUs),
    hungUpUs: orUndefined(leg.hungUpUs),
    completedUs: orUndefined(leg.completedUs),
    billsec: orUndefined(leg.billsec),
  }));
  const first = legs.find((leg) => leg.uuid === snapshot.pbxCallId);
  if (first === undefined || typeof snapshot.callId !== "string" || snapshot.origin === undefined) {
    return { reason: "no first leg" };
  }
  const call = new TrackedCall(first.uuid, snapshot.callId, first, snapshot.origin, {
    callerIdNumber: snapshot.callerIdNumber ?? "",
    callerIdName: snapshot.callerIdName ?? "",
  });
  call.pending = false;
  call.announced = true;
  call.sequence = snapshot.sequence ?? 0;
  call.fromNumber = snapshot.fromNumber ?? call.fromNumber;
  call.toNumber = snapshot.toNumber ?? call.toNumber;
  call.trunk = snapshot.trunk ?? call.trunk;
  call.queue = snapshot.queue ?? "";
  call.trunkDialed = snapshot.trunkDialed ?? false;
  call.extensionDialed = snapshot.extensionDialed ?? false;
  for (const leg of legs) call.legs.set(leg.uuid, leg);
  // The rung extensions in their recorded order: addRung keeps them sorted by leg order.
  for (const extension of snapshot.rung ?? []) {
    const leg = legs.find((candidate) => candidate.extension === extension);
    if (leg !== undefined) call.addRung(leg);
  }
  for (const extension of snapshot.answeredExtensions ?? []) call.answeredExtensions.add(extension);
  call.answeredUs = orUndefined(snapshot.answeredUs ?? null);
  call.answeredBy = snapshot.answeredBy ?? "";
  call.connectedTo = snapshot.connectedTo ?? "";
  call.transferredTo = snapshot.transferredTo ?? "";
  call.agentAnswered = snapshot.agentAnswered ?? false;
  call.parkedAt = snapshot.parkedAt ?? "";
  for (const uuid of snapshot.heldLegs ?? []) call.heldLegs.add(uuid);
  call.variableNames = [...(snapshot.variableNames ?? [])];
  for (const [name, value] of Object.entries(snapshot.variables ?? {})) call.variables.set(name, value);
  return call;
}
