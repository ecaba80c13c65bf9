/** Who calls whom in a played inbound call; anything left out is as recorded. */
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

/** Who dials what in a played outbound call; anything left out is as recorded. */
export interface OutboundCallOptions {
  /** The extension dialling out (default `1001`). */
  readonly extension?: string;
  /** The number dialled (default `0035799123456`). */
  readonly destination?: string;
}

/** The recorded facts a played call's options replace, by the name both simulators' templates give them. */
export type CallOverrides = Partial<
  Record<"callerNumber" | "callerName" | "did" | "extension" | "destination", string>
>;

/** Values go into header lines (and ESL's JSON strings): a line break in one would forge headers. */
function checkValue(name: string, value: string): string {
  if (value === "" || /[\r\n]/.test(value)) throw new TypeError(`${name} must be a non-empty single-line string`);
  return value;
}

export function inboundOverrides(options: InboundCallOptions): CallOverrides {
  const overrides: CallOverrides = {};
  if (options.from !== undefined) overrides.callerNumber = checkValue("from", options.from);
  if (options.callerName !== undefined) overrides.callerName = checkValue("callerName", options.callerName);
  if (options.did !== undefined) overrides.did = checkValue("did", options.did);
  if (options.extension !== undefined) overrides.extension = checkValue("extension", options.extension);
  return overrides;
}

export function outboundOverrides(options: OutboundCallOptions): CallOverrides {
  const overrides: CallOverrides = {};
  if (options.extension !== undefined) overrides.extension = checkValue("extension", options.extension);
  if (options.destination !== undefined) overrides.destination = checkValue("destination", options.destination);
  return overrides;
}
