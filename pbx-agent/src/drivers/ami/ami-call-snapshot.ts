import { z } from "@callmesh/platform/config.js";
import { type DialLeg, TrackedCall, type TrackedChannel } from "./ami-call.js";
import { parseChannelName } from "./ami-channel-name.js";
import type { NumberPlan } from "./ami-number-plan.js";

/**
 * A TrackedCall as the call state file keeps it across an agent restart (issue 5, recovery):
 * everything the call's next events and its Cdr are built from — its id, the sequence reached,
 * whether it was announced, who rang and answered and when, its channels and dial legs — so a
 * restarted agent carries on where the killed one stopped. Plain JSON; `v` names the layout.
 */
export type AmiCallSnapshot = z.infer<typeof snapshotSchema>;

const micros = z.number().finite();
const optionalMicros = micros.nullable();

const channelSchema = z.object({
  uniqueid: z.string(),
  name: z.string(),
  extension: z.string(),
  trunk: z.string(),
  dialedNumber: z.string(),
  startedUs: micros,
  upUs: optionalMicros,
  endedUs: optionalMicros,
  q850Code: z.number().int(),
  dialStatus: z.string(),
  held: z.boolean(),
  holdByCommand: z.boolean(),
  hungUp: z.boolean(),
});

const snapshotSchema = z.object({
  v: z.literal(1),
  linkedid: z.string().min(1),
  callId: z.string().min(1),
  startedUs: micros,
  inbound: z.boolean(),
  /** In the order they appeared; the first is the call's first channel. */
  channels: z.array(channelSchema).min(1),
  legs: z.array(z.object({ from: z.string(), to: z.string(), status: z.string() })),
  announced: z.boolean(),
  sequence: z.number().int().min(0),
  expectation: z
    .object({
      callId: z.string(),
      extension: z.string(),
      context: z.string(),
      destination: z.string(),
      variables: z.record(z.string(), z.string()),
    })
    .nullable(),
  provisional: z.boolean(),
  fromNumber: z.string(),
  toNumber: z.string(),
  callerIdNumber: z.string(),
  callerIdName: z.string(),
  trunk: z.string(),
  queue: z.string(),
  trunkDialed: z.boolean(),
  extensionDialed: z.boolean(),
  rung: z.array(z.string()),
  answeredExtensions: z.array(z.string()),
  answeredUs: optionalMicros,
  answeredBy: z.string(),
  transferredTo: z.string(),
  parkedAt: z.string(),
  agentAnswered: z.boolean(),
  originateFailed: z.boolean(),
  abandoned: z.boolean(),
  dialStatus: z.string(),
  endedUs: optionalMicros,
  q850Code: z.number().int(),
  lastQ850Code: z.number().int(),
  sipCode: z.number().int(),
  variables: z.record(z.string(), z.string()),
  asteriskCdrs: z.array(z.object({ uniqueid: z.string(), disposition: z.string() })),
});

export function snapshotCall(call: TrackedCall): AmiCallSnapshot {
  return {
    v: 1,
    linkedid: call.linkedid,
    callId: call.callId,
    startedUs: call.startedUs,
    inbound: call.inbound,
    channels: [...call.channels.values()].map(snapshotChannel),
    legs: [...call.legs.values()].map((leg) => ({ from: leg.from, to: leg.to.uniqueid, status: leg.status })),
    announced: call.announced,
    sequence: call.sequence,
    expectation: call.expectation === undefined ? null : { ...call.expectation },
    provisional: call.provisional,
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
    transferredTo: call.transferredTo,
    parkedAt: call.parkedAt,
    agentAnswered: call.agentAnswered,
    originateFailed: call.originateFailed,
    abandoned: call.abandoned,
    dialStatus: call.dialStatus,
    endedUs: call.endedUs ?? null,
    q850Code: call.q850Code,
    lastQ850Code: call.lastQ850Code,
    sipCode: call.sipCode,
    variables: Object.fromEntries(call.variables),
    asteriskCdrs: call.asteriskCdrs.map((cdr) => ({ ...cdr })),
  };
}

/**
 * The call a snapshot describes, as the tracker had it (its first channel's Uniqueid is the
 * snapshot's first channel). Throws, naming the field, on a value that is not a snapshot.
 */
export function restoreCall(value: unknown, plan: NumberPlan): TrackedCall {
  const parsed = snapshotSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TypeError(`not a call snapshot: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  const snapshot = parsed.data;
  const [first, ...others] = snapshot.channels.map(restoreChannel);
  if (first === undefined) throw new TypeError("not a call snapshot: channels: empty");
  const call = new TrackedCall(
    snapshot.linkedid,
    snapshot.callId,
    first,
    { atUs: snapshot.startedUs, context: "", exten: "", callerIdNumber: "", callerIdName: "" },
    plan,
  );
  for (const channel of others) call.addChannel(channel);
  for (const leg of snapshot.legs) {
    const to = call.channels.get(leg.to);
    if (to !== undefined) call.legs.set(to.uniqueid, { from: leg.from, to, status: leg.status } satisfies DialLeg);
  }
  call.inbound = snapshot.inbound;
  call.announced = snapshot.announced;
  call.sequence = snapshot.sequence;
  call.expectation = snapshot.expectation ?? undefined;
  call.heldOutputs = undefined;
  call.provisional = snapshot.provisional;
  call.fromNumber = snapshot.fromNumber;
  call.toNumber = snapshot.toNumber;
  call.callerIdNumber = snapshot.callerIdNumber;
  call.callerIdName = snapshot.callerIdName;
  call.trunk = snapshot.trunk;
  call.queue = snapshot.queue;
  call.trunkDialed = snapshot.trunkDialed;
  call.extensionDialed = snapshot.extensionDialed;
  call.rung.push(...snapshot.rung);
  for (const extension of snapshot.answeredExtensions) call.answeredExtensions.add(extension);
  call.answeredUs = snapshot.answeredUs ?? undefined;
  call.answeredBy = snapshot.answeredBy;
  call.transferredTo = snapshot.transferredTo;
  call.parkedAt = snapshot.parkedAt;
  call.agentAnswered = snapshot.agentAnswered;
  call.originateFailed = snapshot.originateFailed;
  call.abandoned = snapshot.abandoned;
  call.dialStatus = snapshot.dialStatus;
  call.endedUs = snapshot.endedUs ?? undefined;
  call.q850Code = snapshot.q850Code;
  call.lastQ850Code = snapshot.lastQ850Code;
  call.sipCode = snapshot.sipCode;
  for (const [name, value] of Object.entries(snapshot.variables)) call.variables.set(name, value);
  call.asteriskCdrs.push(...snapshot.asteriskCdrs);
  return call;
}

function snapshotChannel(channel: TrackedChannel): z.infer<typeof channelSchema> {
  return {
    uniqueid: channel.uniqueid,
    name: channel.name,
    extension: channel.extension,
    trunk: channel.trunk,
    dialedNumber: channel.dialedNumber,
    startedUs: channel.startedUs,
    upUs: channel.upUs ?? null,
    endedUs: channel.endedUs ?? null,
    q850Code: channel.q850Code,
    dialStatus: channel.dialStatus,
    held: channel.held,
    holdByCommand: channel.holdByCommand,
    hungUp: channel.hungUp,
  };
}

function restoreChannel(snapshot: z.infer<typeof channelSchema>): TrackedChannel {
  return {
    ...snapshot,
    parsed: parseChannelName(snapshot.name),
    upUs: snapshot.upUs ?? undefined,
    endedUs: snapshot.endedUs ?? undefined,
  };
}
