import {
  type InboundCallOptions,
  inboundOverrides,
  type OutboundCallOptions,
  outboundOverrides,
} from "../shared/call-options.js";
import { type CallPlayback, playCall } from "../shared/call-playback.js";
import { nowMicros } from "../shared/clock.js";
import { type ExtensionRegistration, extensionName } from "../shared/extension-directory.js";
import { formatAmiBlock } from "./ami-block.js";
import { formatAmiTimestamp } from "./ami-time.js";
import type { CallIdentities } from "./call-identities.js";
import { type CallValues, type RenderedEvent, renderCall } from "./call-render.js";
import type { CallTemplates } from "./call-templates.js";
import type { CaptureTemplate, FactName } from "./capture-template.js";
import type { OriginateRequest } from "./originate-request.js";

export type { InboundCallOptions, OutboundCallOptions } from "../shared/call-options.js";

export interface SimulatedCalls {
  inboundAnswered(options?: InboundCallOptions): Promise<void>;
  outboundBusy(options?: OutboundCallOptions): Promise<void>;
  /** Plays the Originate's call; resolves when its outcome is known, the call playing on. */
  originate(request: OriginateRequest): Promise<{ readonly answered: boolean }>;
}

export interface SimulatedCallsDeps extends CallPlayback<RenderedEvent> {
  readonly templates: CallTemplates;
  readonly identities: CallIdentities;
  readonly extensions: Readonly<Record<string, ExtensionRegistration>>;
}

export function factsOf(
  template: CaptureTemplate,
  overrides: Partial<Record<FactName, string>>,
): Record<FactName, string> {
  const { facts } = template;
  const extension = overrides.extension ?? facts.extension;
  const name = extensionName(extension);
  return {
    extension,
    extensionName: name,
    callerNumber: overrides.callerNumber ?? facts.callerNumber ?? "",
    callerName: overrides.callerName ?? facts.callerName ?? "",
    did: overrides.did ?? facts.did ?? "",
    destination: overrides.destination ?? facts.destination ?? "",
    callerIdNumber: overrides.callerIdNumber ?? extension,
    callerIdName: overrides.callerIdName ?? name,
  };
}

/** The recorded calls, played with fresh ids and the numbers asked for. */
export function createSimulatedCalls(deps: SimulatedCallsDeps): SimulatedCalls {
  const { templates } = deps;

  /** Plays one call; `intercept` sees each event first and may keep it from the clients. */
  function play(
    template: CaptureTemplate,
    values: CallValues,
    options: { ringDeltaUs?: number; intercept?: (event: RenderedEvent) => boolean } = {},
  ): Promise<void> {
    const allocation = deps.identities.allocate(template, {
      nowUs: nowMicros(),
      ringDeltaUs: options.ringDeltaUs ?? 0,
    });
    return playCall(renderCall(template, values, allocation), deps, options.intercept);
  }

  /** No such extension: the Local channel cannot be dialled, so only a failed OriginateResponse comes. */
  function unknownExtension(request: OriginateRequest, callerIdNumber: string, callerIdName: string) {
    const lines: RenderedEvent["lines"] = [
      ["Event", "OriginateResponse"],
      ["Privilege", "call,all"],
      ["Timestamp", formatAmiTimestamp(nowMicros())],
      ...(request.actionId === "" ? [] : [["ActionID", request.actionId] as const]),
      ["Response", "Failure"],
      ["Channel", request.channel],
      ["Context", request.context],
      ["Exten", request.exten],
      ["Reason", "0"],
      ["Uniqueid", "<unknown>"],
      ["CallerIDNum", callerIdNumber],
      ["CallerIDName", callerIdName],
    ];
    return {
      atUs: nowMicros(),
      event: "OriginateResponse",
      privilege: "call,all",
      text: formatAmiBlock(lines),
      lines,
    };
  }

  return {
    inboundAnswered(options = {}) {
      const template = templates.inboundAnswered;
      return play(template, { facts: factsOf(template, inboundOverrides(options)) });
    },

    outboundBusy(options = {}) {
      const template = templates.outboundBusy;
      return play(template, { facts: factsOf(template, outboundOverrides(options)) });
    },

    async originate(request) {
      // OriginateResponse prints "<unknown>" for a CallerID part the Originate did not give.
      const callerIdNumber = request.callerId.number ?? "<unknown>";
      const callerIdName = request.callerId.name ?? "<unknown>";
      const registration = Object.hasOwn(deps.extensions, request.extension)
        ? deps.extensions[request.extension]
        : undefined;
      if (registration === undefined) {
        const response = unknownExtension(request, callerIdNumber, callerIdName);
        if (request.async) await deps.broadcast([response]);
        return { answered: false };
      }

      const answeredTemplate = templates.clickToCall;
      const answersInTime = request.timeoutMs * 1000 >= (answeredTemplate.originateResponseUs ?? 0);
      const answers = registration === "registered" && answersInTime;
      // An agent who does not answer (or whose phone is away) rings until the Originate's Timeout.
      const template = answers ? answeredTemplate : templates.clickToCallNoAnswer;
      const recordedRingSec = Math.round((template.facts.originateTimeoutMs ?? 0) / 1000);
      const ringDeltaUs = answers ? 0 : (Math.max(1, Math.round(request.timeoutMs / 1000)) - recordedRingSec) * 1e6;
      const values: CallValues = {
        facts: factsOf(template, {
          extension: request.extension,
          destination: request.exten,
          callerIdNumber,
          callerIdName,
        }),
        request: {
          actionId: request.actionId === "" ? undefined : request.actionId,
          channel: request.channel,
          context: request.context,
          exten: request.exten,
          callerIdNumber,
          callerIdName,
        },
        variables: request.variables,
      };

      let outcome: ((answered: boolean) => void) | undefined;
      const decided = new Promise<{ answered: boolean }>((resolve) => {
        outcome = (answered) => resolve({ answered });
      });
      const call = play(template, values, {
        ringDeltaUs,
        intercept: (event) => {
          if (event.event !== "OriginateResponse") return false;
          outcome?.(event.lines.some(([key, value]) => key === "Response" && value === "Success"));
          // A synchronous Originate answers with a Response instead of this event.
          return !request.async;
        },
      });
      // Closed before the outcome: the Originate never completed.
      call.then(() => outcome?.(false));
      return decided;
    },
  };
}
