import { readFile } from "node:fs/promises";
import { parseCaptureFile } from "./capture-file.js";
import { type CaptureTemplate, compileCaptureTemplate, type TemplateKind } from "./capture-template.js";

/** The recorded calls the simulator plays. */
export interface CallTemplates {
  /** ast-real-01a: trunk caller → DID → extension answers, 3 s talk, caller hangs up. */
  readonly inboundAnswered: CaptureTemplate;
  /** ast-real-07g: extension dials out via trunk `provider`, far end 486 Busy. */
  readonly outboundBusy: CaptureTemplate;
  /** ast-real-16p: Originate via Local/<ext>@from-internal, agent answers, trunk answers, far end hangs up. */
  readonly clickToCall: CaptureTemplate;
  /** ast-real-17q: Originate where the agent never answers and the Originate times out. */
  readonly clickToCallNoAnswer: CaptureTemplate;
  /** ast-real-14n: inbound call answered by 1001, then `Action: BlindTransfer` of 1001 to 1002. */
  readonly blindTransfer: CaptureTemplate;
  /** ast-real-15o: inbound call answered by 1001, then `Action: Atxfer` of 1001 to 1003. */
  readonly attendedTransfer: CaptureTemplate;
  /** ast-real-19s: inbound call answered by 1001, then an Originate of ChanSpy for supervisor 1005. */
  readonly spy: CaptureTemplate;
  /** ast-real-21u: inbound call answered by 1001, then `Action: Park` of the caller (space 701), 1002 picks up. */
  readonly park: CaptureTemplate;
}

const FIXTURES = new URL("../../fixtures/", import.meta.url);

const FILES: Record<keyof CallTemplates, readonly [file: string, kind: TemplateKind]> = {
  inboundAnswered: ["ast-real-01a-inbound-answered-A.txt", "inbound"],
  outboundBusy: ["ast-real-07g-outbound-busy-A.txt", "outbound"],
  clickToCall: ["ast-real-16p-click-to-call-A.txt", "originate"],
  clickToCallNoAnswer: ["ast-real-17q-click-to-call-agent-noanswer-A.txt", "originate"],
  blindTransfer: ["ast-real-14n-blind-transfer-A.txt", "control"],
  attendedTransfer: ["ast-real-15o-attended-transfer-A.txt", "control"],
  spy: ["ast-real-19s-chanspy-A.txt", "control"],
  park: ["ast-real-21u-park-pickup-A.txt", "control"],
};

/** The path of a capture shipped in pbx-sim/fixtures. */
export const fixtureUrl = (file: string) => new URL(file, FIXTURES);

/** Reads and compiles the shipped captures. */
export async function loadCallTemplates(): Promise<CallTemplates> {
  const entries = await Promise.all(
    Object.entries(FILES).map(async ([key, [file, kind]]) => {
      const text = await readFile(fixtureUrl(file), "utf8");
      return [key, compileCaptureTemplate(file, kind, parseCaptureFile(text))] as const;
    }),
  );
  return Object.fromEntries(entries) as unknown as CallTemplates;
}
