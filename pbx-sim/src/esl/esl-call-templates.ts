import { readFile } from "node:fs/promises";
import { parseEslCaptureFile } from "./esl-capture-file.js";
import {
  compileEslCaptureTemplate,
  type EslCaptureTemplate,
  type EslFactName,
  type EslTemplateKind,
} from "./esl-capture-template.js";

/** The recorded calls the ESL simulator plays. */
export interface EslCallTemplates {
  /** fs-real-01a: trunk caller → DID → user/1001 rings 2 s, answers, 3 s talk, caller hangs up. */
  readonly inboundAnswered: EslCaptureTemplate;
  /** fs-real-07g: 1001 dials out via gateway provider, far end 486 Busy. */
  readonly outboundBusy: EslCaptureTemplate;
  /** fs-real-16p: `bgapi originate {…}user/1001 &bridge(sofia/gateway/provider/…)`, agent and customer answer. */
  readonly clickToCall: EslCaptureTemplate;
  /** fs-real-17q: the same originate where 1001 never answers: `-ERR NO_ANSWER` after originate_timeout. */
  readonly clickToCallNoAnswer: EslCaptureTemplate;
  /**
   * fs-real-19s with the supervisor as its party: `bgapi originate {…}user/1005 &eavesdrop(<1001's
   * leg>)`, whose leg 1005 rings 1 s, answers and runs eavesdrop; the leg of any originate of a
   * phone into another call (esl-joining-leg.ts).
   */
  readonly joiningLeg: EslCaptureTemplate;
}

type Facts = Readonly<Partial<Record<EslFactName, string>>>;

// The recorded parties of each capture (its `# scenario:` line), replaced by a played call's.
const AGENT: Facts = { extension: "1001", extensionName: "Alice Smith", phonePort: "6001" };
const CLICK_TO_CALL: Facts = { ...AGENT, destination: "0035799123456", originationName: "Click-to-call" };

const FILES: Record<keyof EslCallTemplates, readonly [file: string, kind: EslTemplateKind, facts: Facts]> = {
  inboundAnswered: [
    "fs-real-01a-inbound-answered-A.txt",
    "inbound",
    {
      ...AGENT,
      callerNumber: "+35799123456",
      callerDigits: "35799123456",
      callerName: "John Customer",
      did: "35722555101",
    },
  ],
  outboundBusy: ["fs-real-07g-outbound-busy-A.txt", "outbound", { ...AGENT, destination: "0035799123456" }],
  clickToCall: ["fs-real-16p-click-to-call-A.txt", "originate", CLICK_TO_CALL],
  clickToCallNoAnswer: ["fs-real-17q-click-to-call-agent-noanswer-A.txt", "originate", CLICK_TO_CALL],
  joiningLeg: [
    "fs-real-19s-eavesdrop-A.txt",
    "inbound",
    { extension: "1005", extensionName: "Eve Supervisor", phonePort: "6005" },
  ],
};

const FIXTURES = new URL("../../fixtures/", import.meta.url);

/** The path of a capture shipped in pbx-sim/fixtures. */
export const eslFixtureUrl = (file: string) => new URL(file, FIXTURES);

/** Reads and compiles the shipped captures. */
export async function loadEslCallTemplates(): Promise<EslCallTemplates> {
  const entries = await Promise.all(
    Object.entries(FILES).map(async ([key, [file, kind, facts]]) => {
      const capture = parseEslCaptureFile(await readFile(eslFixtureUrl(file)));
      return [key, compileEslCaptureTemplate(file, kind, capture, facts)] as const;
    }),
  );
  return Object.fromEntries(entries) as unknown as EslCallTemplates;
}
