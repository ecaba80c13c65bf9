import assert from "node:assert/strict";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallDirection, CallStatus, PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { CallOutput } from "../../ports/pbx-driver.js";

/**
 * Test assertions over normalized output, shared by the specs: the invariants every call
 * keeps whatever its shape, and the comparison with a capture's designed outcome.
 */

/** A call's designed outcome, in the shape of expected-ast-real-A.json (extra keys optional). */
export interface ExpectedCall {
  from_number: string;
  to_number: string;
  direction: string;
  answered?: boolean;
  answered_by: string | null;
  status: string;
  talk_seconds: number;
  queue?: string | null;
  rung_extensions: string[];
  missed_extensions: string[];
  transferred_to?: string | null;
  hangup_cause_code: number;
  variables: Record<string, string>;
  /** Hand-written fixtures: the event kinds in order, and the raw disposition. */
  events?: string[];
  disposition?: string;
  trunk?: string;
  sip_code?: number;
}

const STATUS: Record<string, CallStatus> = {
  success: CallStatus.SUCCESS,
  unavailable: CallStatus.UNAVAILABLE,
  busy: CallStatus.BUSY,
  rejected: CallStatus.REJECTED,
  failed: CallStatus.FAILED,
  cancelled: CallStatus.CANCELLED,
  abandoned: CallStatus.ABANDONED,
};
const DIRECTION: Record<string, CallDirection> = {
  inbound: CallDirection.INBOUND,
  outbound: CallDirection.OUTBOUND,
  internal: CallDirection.INTERNAL,
};

/** The output grouped by call, in the order the calls first appeared. */
export function outputsByCall(outputs: readonly CallOutput[]): Map<string, CallOutput[]> {
  const byCall = new Map<string, CallOutput[]>();
  for (const output of outputs) {
    const callId = output.kind === "event" ? output.event.callId : output.cdr.callId;
    const list = byCall.get(callId);
    if (list === undefined) byCall.set(callId, [output]);
    else list.push(output);
  }
  return byCall;
}

/**
 * What every call's output keeps (issue 4, item 6): one Cdr, last; sequences 1..n;
 * exactly one HANGUP, the last event; RINGING once per rung extension, in order, and once
 * per dialed trunk leg, named by the outside number (never a rung or missed extension);
 * ANSWERED names who answered — the extension, or for a far-end answer the number its
 * trunk leg rang — never "", and only after that party's RINGING; TRANSFERRED names the
 * target; the legs nested in the one Cdr.
 */
export function assertWellFormed(outputs: readonly CallOutput[], agentId: string): void {
  for (const [callId, list] of outputsByCall(outputs)) {
    const last = list.at(-1);
    assert.equal(last?.kind, "cdr", `${callId}: the Cdr comes last`);
    const cdr = last?.kind === "cdr" ? last.cdr : undefined;
    assert.ok(cdr);
    const events = list.flatMap((output) => (output.kind === "event" ? [output.event] : []));
    assert.equal(events.length, list.length - 1, `${callId}: exactly one Cdr`);
    assert.deepEqual(
      events.map((event) => event.sequence),
      events.map((_, index) => index + 1),
      `${callId}: sequences 1..n without gaps`,
    );
    const kinds = events.map((event) => event.kind);
    assert.equal(kinds.filter((kind) => kind === CallEventKind.HANGUP).length, 1, `${callId}: one HANGUP`);
    assert.equal(kinds.at(-1), CallEventKind.HANGUP, `${callId}: HANGUP is the last event`);
    const originate = kinds.indexOf(CallEventKind.ORIGINATE);
    assert.ok(originate <= 0, `${callId}: ORIGINATE, if any, comes first`);
    const trunkLegs = new Set(
      cdr.legs.filter((leg) => leg.trunk !== "" && leg.extension === "").map((leg) => leg.pbxLegId),
    );
    const ringing = events.filter((event) => event.kind === CallEventKind.RINGING);
    const trunkRinging = ringing.filter((event) => trunkLegs.has(event.pbxLegId));
    assert.deepEqual(
      ringing.filter((event) => !trunkLegs.has(event.pbxLegId)).map((event) => event.extension),
      cdr.rungExtensions,
      `${callId}: one RINGING per rung extension, in order`,
    );
    for (const event of trunkRinging) {
      assert.notEqual(event.extension, "", `${callId}: a trunk leg's RINGING names the number it rings`);
      assert.ok(!cdr.rungExtensions.includes(event.extension), `${callId}: a dialed number is not a rung extension`);
    }
    assert.equal(
      new Set(trunkRinging.map((event) => event.pbxLegId)).size,
      trunkRinging.length,
      `${callId}: one RINGING per trunk leg`,
    );
    const answered = events.filter((event) => event.kind === CallEventKind.ANSWERED);
    assert.ok(answered.length <= 1, `${callId}: answered at most once`);
    if (answered[0] !== undefined) {
      const answer = answered[0];
      assert.notEqual(answer.extension, "", `${callId}: ANSWERED names who answered`);
      if (cdr.answeredBy !== "")
        assert.equal(answer.extension, cdr.answeredBy, `${callId}: ANSWERED names answered_by`);
      else assert.ok(trunkLegs.has(answer.pbxLegId), `${callId}: only the far end answers for nobody's extension`);
      const rangFirst = events
        .slice(0, events.indexOf(answer))
        .some((event) => event.kind === CallEventKind.RINGING && event.extension === answer.extension);
      assert.ok(rangFirst, `${callId}: ${answer.extension} rang before answering`);
    }
    for (const event of events) {
      assert.equal(event.eventId, `${callId}:${event.sequence}`);
      assert.equal(event.agentId, agentId);
      assert.equal(event.pbxCallId, cdr.pbxCallId);
      assert.ok(event.occurredAt && event.startedAt);
      if (event.kind === CallEventKind.TRANSFERRED) assert.notEqual(event.transferredTo, "", `${callId}: target named`);
      if (event.kind !== CallEventKind.HANGUP)
        assert.equal(event.status, CallStatus.UNSPECIFIED, "no status before the end");
    }
    assert.equal(cdr.id, callId);
    assert.equal(cdr.pbxKind, PbxKind.ASTERISK);
    assert.ok(cdr.legs.length >= 1, `${callId}: legs nested in the Cdr`);
    assert.equal(new Set(cdr.legs.map((leg) => leg.pbxLegId)).size, cdr.legs.length, `${callId}: each leg once`);
    assert.equal(cdr.legs[0]?.pbxLegId, cdr.pbxCallId, `${callId}: the first leg is the Linkedid's channel`);
  }
}

/** The Cdr and the HANGUP, field by field, against the call's designed outcome. */
export function assertCallMatches(cdr: Cdr | undefined, hangup: CallEvent | undefined, want: ExpectedCall): void {
  assert.ok(cdr && hangup);
  assert.equal(cdr.fromNumber, want.from_number, "from_number");
  assert.equal(cdr.toNumber, want.to_number, "to_number");
  assert.equal(cdr.direction, DIRECTION[want.direction], "direction");
  assert.equal(cdr.answeredBy, want.answered_by ?? "", "answered_by");
  assert.equal(cdr.status, STATUS[want.status], "status");
  assert.equal(cdr.talkSeconds, want.talk_seconds, "talk_seconds");
  if (want.queue !== undefined) assert.equal(cdr.queue, want.queue ?? "", "queue");
  assert.deepEqual(cdr.rungExtensions, want.rung_extensions, "rung_extensions");
  assert.deepEqual(cdr.missedExtensions, want.missed_extensions, "missed_extensions");
  if (want.transferred_to !== undefined) assert.equal(cdr.transferredTo, want.transferred_to ?? "", "transferred_to");
  assert.equal(cdr.cause?.q850Code, want.hangup_cause_code, "hangup cause");
  assert.deepEqual(cdr.variables, want.variables, "variables");
  const answered = want.answered ?? want.status === "success";
  assert.equal(cdr.answeredAt !== undefined, answered, "answered_at set iff answered");
  if (want.disposition !== undefined) assert.equal(cdr.disposition, want.disposition, "disposition kept raw");
  if (want.trunk !== undefined) assert.equal(cdr.trunk, want.trunk, "trunk");
  if (want.sip_code !== undefined) assert.equal(cdr.cause?.sipCode, want.sip_code, "SIP code");
  for (const field of ["fromNumber", "toNumber", "direction", "status", "talkSeconds", "durationSeconds"] as const) {
    assert.deepEqual(hangup[field], cdr[field], `HANGUP.${field} agrees with the Cdr`);
  }
  assert.equal(hangup.transferredTo, cdr.transferredTo, "HANGUP.transferredTo agrees with the Cdr");
  assert.deepEqual(hangup.cause, cdr.cause);
}

/** The kinds of a call's events, by name: `["RINGING", "ANSWERED", "HANGUP"]`. */
export function eventKinds(outputs: readonly CallOutput[], callId: string): string[] {
  return outputs.flatMap((output) =>
    output.kind === "event" && output.event.callId === callId ? [CallEventKind[output.event.kind]] : [],
  );
}
