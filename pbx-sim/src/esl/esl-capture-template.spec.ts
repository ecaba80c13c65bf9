import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderEslCall } from "./esl-call-render.js";
import { loadEslCallTemplates } from "./esl-call-templates.js";
import type { EslFactName } from "./esl-capture-template.js";
import { eventHeader } from "./esl-event.js";

const FACTS: Record<EslFactName, string> = {
  extension: "1007",
  extensionName: "Grace Hall",
  phonePort: "6007",
  callerNumber: "+1555",
  callerDigits: "1555",
  callerName: "Caller",
  did: "35722555107",
  destination: "0049301234",
  originationNumber: "0049301234",
  originationName: "CRM",
};

describe("esl-capture-template", () => {
  it("finds the recorded call's ids, times and parties in each shipped capture", async () => {
    const templates = await loadEslCallTemplates();
    assert.equal(templates.inboundAnswered.events.length, 64);
    assert.equal(templates.clickToCall.originateTimeoutSec, 30);
    assert.equal(templates.clickToCall.ring, undefined);
    assert.equal(templates.clickToCallNoAnswer.originateTimeoutSec, 10);
    assert.ok(templates.clickToCallNoAnswer.ring);
    // The agent answered 2.02 s after the originate started.
    assert.equal(templates.clickToCall.jobResultUs, 2_020_231);
  });

  it("tells the customer's number from the originate's caller ID where the recording used one number for both", async () => {
    const { clickToCall } = await loadEslCallTemplates();
    const events = renderEslCall(
      clickToCall,
      {
        facts: { ...FACTS, originationNumber: "0000" },
        jobUuid: "job",
        originateArg: "arg",
        variables: [["crm_id", "c1"]],
      },
      {
        shiftUs: 0,
        ringDeltaUs: 0,
        coreUuid: "core",
        uuids: ["a", "b", "c", "d", "e"],
        firstSipCallId: 1,
        firstSessionId: 1,
      },
    );
    const agent = events.find((event) => event.name === "CHANNEL_CREATE")?.event ?? { headers: [] };
    assert.equal(eventHeader(agent, "Caller-Caller-ID-Number"), "0000");
    assert.equal(eventHeader(agent, "Caller-ANI"), "0000");
    assert.equal(eventHeader(agent, "Caller-Destination-Number"), "1007");
    assert.equal(eventHeader(agent, "variable_crm_id"), "c1");
    assert.equal(eventHeader(agent, "variable_origination_caller_id_name"), undefined);
    const trunk = events.find((event) => eventHeader(event.event, "Channel-Name")?.startsWith("sofia/external/"));
    assert.equal(eventHeader(trunk?.event ?? { headers: [] }, "Caller-Destination-Number"), "0049301234");
    assert.equal(eventHeader(trunk?.event ?? { headers: [] }, "Caller-Caller-ID-Name"), "Grace Hall");
    const job = events.find((event) => event.name === "BACKGROUND_JOB")?.event;
    assert.equal(eventHeader(job ?? { headers: [] }, "Job-UUID"), "job");
    assert.equal(eventHeader(job ?? { headers: [] }, "Job-Command-Arg"), "arg");
  });
});
