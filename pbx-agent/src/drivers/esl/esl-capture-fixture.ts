import { readFileSync } from "node:fs";
import type { CallEvent } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallDirection, CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { createEslNormalizer } from "./esl-normalizer.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** A capture file in fixtures/, `#` lines included: the normalizer skips them. */
export function readEslCapture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

export function readEslFixtureJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8"));
}

export { randomChunks } from "../random-chunks.js";

/** Replays bytes through the normalizer, in the given chunks. */
export function replayEsl(chunks: readonly Uint8Array[]): CallOutput[] {
  const outputs: CallOutput[] = [];
  const normalizer = createEslNormalizer({ agentId: "agent-test", onOutput: (output) => outputs.push(output) });
  for (const chunk of chunks) normalizer.push(chunk);
  normalizer.end();
  return outputs;
}

/** A call's outcome in the shape of expected-fs-real-A.json (and the `.expected.json` files beside hand-written captures). */
export interface CallOutcome {
  from_number: string;
  to_number: string;
  direction: string;
  answered: boolean;
  answered_by: string | null;
  status: string;
  talk_seconds: number;
  queue: string | null;
  rung_extensions: string[];
  missed_extensions: string[];
  transferred_to: string | null;
  variables: Record<string, string>;
  hangup_cause_code: number;
}

export function outcomeOf(cdr: Cdr): CallOutcome {
  return {
    from_number: cdr.fromNumber,
    to_number: cdr.toNumber,
    direction: CallDirection[cdr.direction].toLowerCase(),
    answered: cdr.answeredAt !== undefined,
    answered_by: cdr.answeredBy || null,
    status: CallStatus[cdr.status].toLowerCase(),
    talk_seconds: cdr.talkSeconds,
    queue: cdr.queue || null,
    rung_extensions: cdr.rungExtensions,
    missed_extensions: cdr.missedExtensions,
    transferred_to: cdr.transferredTo || null,
    variables: { ...cdr.variables },
    hangup_cause_code: cdr.cause?.q850Code ?? 0,
  };
}

/** The fields of an expected outcome, without its notes. */
export function expectedOutcome(expected: Record<string, unknown>): CallOutcome {
  const { notes: _notes, ...outcome } = expected;
  return outcome as unknown as CallOutcome;
}

/**
 * The event invariants every call keeps: sequence from 1 without gaps, exactly one
 * HANGUP and it is last, then exactly one Cdr; ANSWERED never before a RINGING.
 * Returns the problems found, [] when none.
 */
export function eventInvariantProblems(outputs: readonly CallOutput[]): string[] {
  const problems: string[] = [];
  const events = new Map<string, CallEvent[]>();
  const cdrs = new Map<string, number>();
  for (const output of outputs) {
    if (output.kind === "event") {
      const callId = output.event.callId;
      if (cdrs.has(callId)) problems.push(`${callId}: event after its Cdr`);
      const list = events.get(callId) ?? [];
      list.push(output.event);
      events.set(callId, list);
    } else {
      cdrs.set(output.cdr.callId, (cdrs.get(output.cdr.callId) ?? 0) + 1);
    }
  }
  for (const [callId, list] of events) {
    list.forEach((event, index) => {
      if (event.sequence !== index + 1) problems.push(`${callId}: event ${index + 1} has sequence ${event.sequence}`);
    });
    const hangups = list.filter((event) => event.kind === CallEventKind.HANGUP).length;
    if (hangups !== 1) problems.push(`${callId}: ${hangups} HANGUP events`);
    if (list.at(-1)?.kind !== CallEventKind.HANGUP) problems.push(`${callId}: last event is not HANGUP`);
    const firstAnswer = list.findIndex((event) => event.kind === CallEventKind.ANSWERED);
    const firstRing = list.findIndex((event) => event.kind === CallEventKind.RINGING);
    if (firstAnswer >= 0 && (firstRing < 0 || firstRing > firstAnswer))
      problems.push(`${callId}: answered before ringing`);
    if (cdrs.get(callId) !== 1) problems.push(`${callId}: ${cdrs.get(callId) ?? 0} Cdrs`);
  }
  for (const callId of cdrs.keys()) if (!events.has(callId)) problems.push(`${callId}: Cdr without events`);
  return problems;
}

export function cdrsOf(outputs: readonly CallOutput[]): Cdr[] {
  return outputs.flatMap((output) => (output.kind === "cdr" ? [output.cdr] : []));
}
