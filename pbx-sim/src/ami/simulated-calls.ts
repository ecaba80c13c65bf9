import { nowMicros } from "../shared/clock.js";
import { type ExtensionRegistration, extensionName } from "../shared/extension-directory.js";
import { playEvents } from "../shared/play-events.js";
import { formatAmiBlock } from "./ami-block.js";
import { formatAmiTimestamp } from "./ami-time.js";
import type { CallIdentities } from "./call-identities.js";
import { type CallValues, type RenderedEvent, renderCall } from "./call-render.js";
import type { CallTemplates } from "./call-templates.js";
import type { CaptureTemplate, FactName } from "./capture-template.js";
import type { OriginateRequest } from "./originate-request.js";

export interface InboundCallOptions {
  /** The caller's number as the trunk presents it (default `+35799123456`, as recorded). */
  readonly from?: string;
  /** The caller's name (default `John Customer`). */
  readonly callerName?: string;
  /** The DID dialled (default `35722555101`). */
  readonly did?: string;
  /** The extension that answers (default `1001`). */
  readonly extension?: string;
}

export interface OutboundCallOptions {
  /** The extension dialling out (default `1001`). */
  readonly extension?: string;
  /** The number dialled (default `0035799123456`). */
  readonly destination?: string;
}

export interface SimulatedCalls {
  inboundAnswered(options?: InboundCallOptions): Promise<void>;
  outboundBusy(options?: OutboundCallOptions): Promise<void>;
  /** Plays the Originate's call; resolves when its outcome is known, the call playing on. */
  originate(request: OriginateRequest): Promise<{ readonly answered: boolean }>;
}

export interface SimulatedCallsDeps {
  readonly templates: CallTemplates;
  readonly identities: CallIdentities;
  readonly extensions: Readonly<Record<string, ExtensionRegistration>>;
  readonly timeScale: number;
  /** Aborted when the simulator closes: calls stop between two events. */
  readonly signal: AbortSignal;
  /** Writes events to every client that takes them. */
  readonly broadcast: (events: readonly RenderedEvent[]) => Promise<void>;
  /** Tracks calls in flight so close() can wait for them. */
  readonly track: (call: Promise<unknown>) => void;
}

/** Values go into CRLF-framed lines: a line break in one would forge headers. */
function checkValue(name: string, value: string): string {
  if (value === "" || /[\r\n]/.test(value)) throw new TypeError(`${name} must be a non-empty single-line string`);
  return value;
}

function factsOf(template: CaptureTemplate, overrides: Partial<Record<FactName, string>>): Record<FactName, string> {
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
    const events = renderCall(template, values, allocation);
    const intercept = options.intercept;
    const call = playEvents(events, {
      timeScale: deps.timeScale,
      signal: deps.signal,
      emit: (batch) => deps.broadcast(intercept ? batch.filter((event) => !intercept(event)) : batch),
    });
    deps.track(call);
    return call;
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
      const overrides: Partial<Record<FactName, string>> = {};
      if (options.from !== undefined) overrides.callerNumber = checkValue("from", options.from);
      if (options.callerName !== undefined) overrides.callerName = checkValue("callerName", options.callerName);
      if (options.did !== undefined) overrides.did = checkValue("did", options.did);
      if (options.extension !== undefined) overrides.extension = checkValue("extension", options.extension);
      return play(template, { facts: factsOf(template, overrides) });
    },

    outboundBusy(options = {}) {
      const template = templates.outboundBusy;
      const overrides: Partial<Record<FactName, string>> = {};
      if (options.extension !== undefined) overrides.extension = checkValue("extension", options.extension);
      if (options.destination !== undefined) overrides.destination = checkValue("destination", options.destination);
      return play(template, { facts: factsOf(template, overrides) });
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
