import { randomUUID } from "node:crypto";
import {
  type InboundCallOptions,
  inboundOverrides,
  type OutboundCallOptions,
  outboundOverrides,
} from "../shared/call-options.js";
import { type CallPlayback, playCall } from "../shared/call-playback.js";
import { nowMicros } from "../shared/clock.js";
import { extensionName } from "../shared/extension-directory.js";
import { type EslCallAllocation, type EslCallValues, type RenderedEslEvent, renderEslCall } from "./esl-call-render.js";
import type { EslCallTemplates } from "./esl-call-templates.js";
import type { EslCaptureTemplate, EslFactName } from "./esl-capture-template.js";
import type { EslOriginateRequest } from "./esl-originate-request.js";

/** How a phone of the simulated switch takes a call it is offered. */
export type EslExtensionBehaviour = "answers" | "no-answer" | "busy" | "unregistered";

export type EslInboundCallOptions = InboundCallOptions;
export type EslOutboundCallOptions = OutboundCallOptions;

/** What an originate came to: the api/BACKGROUND_JOB body FreeSWITCH gives (`+OK <uuid>\n`, `-ERR NO_ANSWER\n`). */
export interface EslOriginateOutcome {
  readonly result: string;
  /** Whether the played call carried the API and BACKGROUND_JOB events (else the caller fires them). */
  readonly announced: boolean;
}

export interface EslSimulatedCalls {
  /** Fresh ids, session ids and SIP Call-IDs for one played call of `template`, its times shifted to now. */
  allocate(template: EslCaptureTemplate, ringDeltaUs?: number): EslCallAllocation;
  inboundAnswered(options?: EslInboundCallOptions): Promise<void>;
  outboundBusy(options?: EslOutboundCallOptions): Promise<void>;
  /**
   * Plays the originate's call; resolves with its outcome when the agent answers or the originate
   * fails, the call playing on. The recorded API and BACKGROUND_JOB events play with the call, where
   * FreeSWITCH fired them; a synchronous `api originate` (`background: false`) has no BACKGROUND_JOB.
   */
  originate(
    request: EslOriginateRequest,
    job: { readonly jobUuid: string; readonly argument: string; readonly background: boolean },
  ): Promise<EslOriginateOutcome>;
}

export interface EslSimulatedCallsDeps extends CallPlayback<RenderedEslEvent> {
  readonly templates: EslCallTemplates;
  readonly coreUuid: string;
  readonly extensions: Readonly<Record<string, EslExtensionBehaviour>>;
}

// The recorded directory gave phone 10NN the static contact 127.0.0.1:60NN.
const phonePort = (extension: string) => (/^\d+$/.test(extension) ? String(6000 + (Number(extension) % 1000)) : "6001");

// What FreeSWITCH's vanilla configuration presents when an originate names no caller ID.
const DEFAULT_CALLER_ID = { name: "FreeSWITCH", number: "0000000000" };

export function factsOf(template: EslCaptureTemplate, overrides: Partial<Record<EslFactName, string>>) {
  const recorded = template.facts;
  const extension = overrides.extension ?? recorded.extension ?? "";
  const fact = (name: EslFactName) => overrides[name] ?? recorded[name] ?? "";
  const callerNumber = fact("callerNumber");
  return {
    extension,
    extensionName: overrides.extensionName ?? extensionName(extension),
    phonePort: phonePort(extension),
    callerNumber,
    callerDigits: callerNumber.replace(/\D/g, ""),
    callerName: fact("callerName"),
    did: fact("did"),
    destination: fact("destination"),
    originationNumber: fact("originationNumber"),
    originationName: fact("originationName"),
  } satisfies Record<EslFactName, string>;
}

/** The recorded calls, played with fresh ids and the numbers asked for. */
export function createEslSimulatedCalls(deps: EslSimulatedCallsDeps): EslSimulatedCalls {
  const { templates } = deps;
  let nextSessionId = 1;
  let nextSipCallId = 1;

  const allocate = (template: EslCaptureTemplate, ringDeltaUs: number): EslCallAllocation => {
    const firstUs = template.events[0]?.atUs ?? 0;
    const firstSessionId = nextSessionId;
    nextSessionId += template.sessionSpan;
    const firstSipCallId = nextSipCallId;
    nextSipCallId += template.sipCallIdCount;
    return {
      // Whole seconds: keeps *_epoch, *_stamp and µs fields exactly as consistent as recorded.
      shiftUs: Math.floor((nowMicros() - firstUs) / 1_000_000) * 1_000_000,
      ringDeltaUs,
      coreUuid: deps.coreUuid,
      uuids: Array.from({ length: template.uuidCount }, () => randomUUID()),
      firstSipCallId,
      firstSessionId,
    };
  };

  /** Plays one call; `intercept` sees each event first and may keep it from the clients. */
  function play(
    template: EslCaptureTemplate,
    values: EslCallValues,
    options: { ringDeltaUs?: number; intercept?: (event: RenderedEslEvent) => boolean } = {},
  ): Promise<void> {
    const events = renderEslCall(template, values, allocate(template, options.ringDeltaUs ?? 0));
    return playCall(events, deps, options.intercept);
  }

  return {
    allocate: (template, ringDeltaUs = 0) => allocate(template, ringDeltaUs),

    inboundAnswered(options = {}) {
      const template = templates.inboundAnswered;
      return play(template, { facts: factsOf(template, inboundOverrides(options)) });
    },

    outboundBusy(options = {}) {
      const template = templates.outboundBusy;
      return play(template, { facts: factsOf(template, outboundOverrides(options)) });
    },

    async originate(request, job) {
      const behaviour = Object.hasOwn(deps.extensions, request.extension)
        ? deps.extensions[request.extension]
        : undefined;
      // No channel is created for these: user_outgoing_channel fails before dialling.
      // SUBSCRIBER_ABSENT is what mod_dptools gives for a user the directory lacks; USER_NOT_REGISTERED
      // what a `${sofia_contact()}` dial-string gives for a phone with no registration.
      if (behaviour === undefined) return { result: "-ERR SUBSCRIBER_ABSENT\n", announced: false };
      if (behaviour === "unregistered") return { result: "-ERR USER_NOT_REGISTERED\n", announced: false };
      // No capture records a busy agent leg: only the originate's result is simulated.
      if (behaviour === "busy") return { result: "-ERR USER_BUSY\n", announced: false };

      const answered = templates.clickToCall;
      const answersInTime = request.timeoutSec * 1_000_000 >= (answered.jobResultUs ?? 0);
      const answers = behaviour === "answers" && answersInTime;
      // An agent who does not answer rings until originate_timeout.
      const template = answers ? answered : templates.clickToCallNoAnswer;
      const recordedTimeoutSec = template.originateTimeoutSec ?? 0;
      const ringDeltaUs = answers ? 0 : (request.timeoutSec - recordedTimeoutSec) * 1_000_000;
      const effectiveName = request.variables.find(([name]) => name === "effective_caller_id_name")?.[1];
      const values: EslCallValues = {
        facts: factsOf(template, {
          extension: request.extension,
          ...(effectiveName ? { extensionName: effectiveName } : {}),
          destination: request.destination,
          originationNumber: request.callerIdNumber ?? DEFAULT_CALLER_ID.number,
          originationName: request.callerIdName ?? DEFAULT_CALLER_ID.name,
        }),
        jobUuid: job.jobUuid,
        originateArg: job.argument,
        variables: request.variables,
      };

      let decide: ((outcome: EslOriginateOutcome) => void) | undefined;
      const decided = new Promise<EslOriginateOutcome>((resolve) => {
        decide = resolve;
      });
      const call = play(template, values, {
        ringDeltaUs,
        intercept: (event) => {
          if (event.name === "BACKGROUND_JOB") decide?.({ result: event.event.body ?? "", announced: true });
          // A synchronous `api originate` answers with api/response and fires no BACKGROUND_JOB.
          return event.name === "BACKGROUND_JOB" && !job.background;
        },
      });
      // Closed before the outcome: the originate never completed.
      call.then(() => decide?.({ result: "-ERR SYSTEM_SHUTDOWN\n", announced: true }));
      return decided;
    },
  };
}
