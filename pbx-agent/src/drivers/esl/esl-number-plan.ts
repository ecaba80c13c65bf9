/**
 * Which FreeSWITCH legs are trunks and which numbers are extensions on this PBX: the
 * facts a call's direction is derived from (FreeSWITCH's own `Call-Direction` is per
 * leg and says nothing about the call).
 */
export interface EslNumberPlan {
  /** A sofia profile that faces carriers (vanilla: `external`). */
  isTrunkProfile(profile: string): boolean;
  /** A dialplan context calls from carriers enter (vanilla: `public`). */
  isTrunkContext(context: string): boolean;
  /** A sofia gateway that is a trunk. */
  isTrunkGateway(gateway: string): boolean;
  isExtension(number: string): boolean;
}

export interface EslNumberPlanOptions {
  /** Sofia profiles whose legs are trunk legs; default `["external"]`. */
  trunkProfiles?: readonly string[];
  /** Contexts that calls from the outside world enter; an entry ending in `*` matches by prefix. Default `["public"]`. */
  trunkContexts?: readonly string[];
  /** Gateways that are trunks; default every gateway (`sofia/gateway/<name>` legs). */
  trunkGateways?: readonly string[];
  /** What an extension looks like; default 2 to 6 digits (vanilla users are 1000-1019). */
  extensionPattern?: RegExp;
}

export const DEFAULT_TRUNK_PROFILES: readonly string[] = ["external"];
export const DEFAULT_TRUNK_CONTEXTS: readonly string[] = ["public"];
export const DEFAULT_EXTENSION_PATTERN = /^\d{2,6}$/;

export function createEslNumberPlan(options: EslNumberPlanOptions = {}): EslNumberPlan {
  const profiles = new Set(options.trunkProfiles ?? DEFAULT_TRUNK_PROFILES);
  const contexts = matcher(options.trunkContexts ?? DEFAULT_TRUNK_CONTEXTS);
  const gateways = options.trunkGateways === undefined ? undefined : new Set(options.trunkGateways);
  const pattern = options.extensionPattern ?? DEFAULT_EXTENSION_PATTERN;
  return {
    isTrunkProfile: (profile) => profiles.has(profile),
    isTrunkContext: contexts,
    isTrunkGateway: (gateway) => gateway !== "" && (gateways === undefined || gateways.has(gateway)),
    isExtension: (number) => pattern.test(number),
  };
}

function matcher(entries: readonly string[]): (value: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of entries) {
    if (entry.endsWith("*")) prefixes.push(entry.slice(0, -1));
    else exact.add(entry);
  }
  return (value) => exact.has(value) || prefixes.some((prefix) => value.startsWith(prefix));
}
