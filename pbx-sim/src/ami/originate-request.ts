import { type CallerId, parseCallerId } from "./caller-id.js";
import { isAsteriskTrue } from "./event-mask.js";
import { actionHeader, actionVariables } from "./received-action.js";

/** An Originate the simulator can play: a FreePBX-style click-to-call through `Local/<ext>@<context>`. */
export interface OriginateRequest {
  readonly actionId: string;
  /** The Channel header as sent; a failed OriginateResponse names it unchanged. */
  readonly channel: string;
  /** The agent's extension, from `Local/<ext>@…`. */
  readonly extension: string;
  readonly context: string;
  readonly exten: string;
  readonly timeoutMs: number;
  readonly callerId: CallerId;
  readonly variables: ReadonlyArray<readonly [name: string, value: string]>;
  readonly async: boolean;
}

export type ParsedOriginate =
  | { readonly ok: true; readonly request: OriginateRequest }
  /** `message` is what Asterisk answers in `Response: Error`; `unsupported` marks shapes the simulator cannot play. */
  | { readonly ok: false; readonly message: string; readonly unsupported?: string };

// sscanf("%30d"): leading blanks, an optional sign, digits; the rest ignored.
export const scanInteger = (value: string) => {
  const match = /^\s*([+-]?\d+)/.exec(value);
  return match ? Number(match[1]) : undefined;
};

/** Validates an Originate in the order main/manager.c action_originate does, with its error texts. */
export function parseOriginate(headers: readonly string[]): ParsedOriginate {
  const header = (key: string) => actionHeader(headers, key);
  const channel = header("Channel");
  const exten = header("Exten");
  const context = header("Context");
  const priorityText = header("Priority");
  const timeoutText = header("Timeout");
  if (channel === "") return { ok: false, message: "Channel not specified" };
  const priority = priorityText === "" ? 0 : scanInteger(priorityText);
  // A non-numeric priority is looked up as a label; the recorded dialplan has none.
  if (priority === undefined) return { ok: false, message: "Invalid priority" };
  const timeoutMs = timeoutText === "" ? 30000 : scanInteger(timeoutText);
  if (timeoutMs === undefined) return { ok: false, message: "Invalid timeout" };
  if (!channel.includes("/")) return { ok: false, message: "Invalid channel" };
  if (header("Application") !== "") {
    return { ok: false, message: "Originate failed", unsupported: "Originate to an Application" };
  }
  // The recorded dialplan matches digit strings in from-internal (_10XX, _00X.).
  if (priority !== 0 && (context === "" || !/^[0-9*#+]+$/.test(exten))) {
    return { ok: false, message: "Extension does not exist." };
  }
  if (priority === 0 || context === "") {
    return { ok: false, message: "Originate with 'Exten' requires 'Context' and 'Priority'" };
  }
  const local = /^Local\/([^@/]+)@[^/]+(\/[a-z]*)?$/.exec(channel);
  if (!local?.[1]) {
    return {
      ok: false,
      message: "Originate failed",
      unsupported: `Originate of channel ${channel} (only Local/<ext>@<context>)`,
    };
  }
  return {
    ok: true,
    request: {
      actionId: header("ActionID"),
      channel,
      extension: local[1],
      context,
      exten,
      timeoutMs,
      callerId: parseCallerId(header("CallerID")),
      variables: actionVariables(headers),
      async: isAsteriskTrue(header("Async")),
    },
  };
}
