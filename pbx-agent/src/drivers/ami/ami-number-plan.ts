/**
 * Which contexts are trunks and which endpoints are extensions on this PBX: the two facts
 * a call's direction is derived from.
 */
export interface NumberPlan {
  isTrunkContext(context: string): boolean;
  isExtension(endpoint: string): boolean;
}

export interface NumberPlanOptions {
  /**
   * Contexts that calls from the outside world enter; an entry ending in `*` matches by
   * prefix. Default: FreePBX's inbound contexts.
   */
  trunkContexts?: readonly string[];
  /** What an extension looks like; default 2 to 6 digits. */
  extensionPattern?: RegExp;
}

/**
 * FreePBX puts trunks in `from-trunk` (aliases `from-pstn`, `from-pstn-e164-us`,
 * `from-pstn-toheader`, per-trunk `from-trunk-<name>`), direct DIDs in `from-did-direct`,
 * analog lines in `from-dahdi`/`from-zaptel`, anonymous SIP in `from-sip-external`.
 */
export const DEFAULT_TRUNK_CONTEXTS: readonly string[] = [
  "from-trunk",
  "from-trunk-*",
  "from-pstn",
  "from-pstn-*",
  "from-did-direct",
  "from-dahdi",
  "from-zaptel",
  "from-sip-external",
];

export const DEFAULT_EXTENSION_PATTERN = /^\d{2,6}$/;

export function createNumberPlan(options: NumberPlanOptions = {}): NumberPlan {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const context of options.trunkContexts ?? DEFAULT_TRUNK_CONTEXTS) {
    if (context.endsWith("*")) prefixes.push(context.slice(0, -1));
    else exact.add(context);
  }
  const pattern = options.extensionPattern ?? DEFAULT_EXTENSION_PATTERN;
  return {
    isTrunkContext: (context) => exact.has(context) || prefixes.some((prefix) => context.startsWith(prefix)),
    isExtension: (endpoint) => pattern.test(endpoint),
  };
}
