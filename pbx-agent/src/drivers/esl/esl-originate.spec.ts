import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CommandStatus, OriginateSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { buildOriginateCommand, outcomeOfOriginateJob } from "./esl-originate.js";
import { bridgeDestination, isCrmVariable, parseOriginateArguments } from "./esl-originate-command.js";

describe("originate arguments as FreeSWITCH echoes them", () => {
  it("reads the click-to-call of fs-real-16p: variables, agent extension, &bridge destination", () => {
    const args = parseOriginateArguments(
      "{crm_id=abc123,origination_caller_id_name='Click-to-call',origination_caller_id_number=0035799123456,effective_caller_id_name='Alice Smith',effective_caller_id_number=1001,originate_timeout=30,ignore_early_media=true}user/1001 &bridge(sofia/gateway/provider/0035799123456)",
    );
    assert.equal(args.extension, "1001");
    assert.equal(args.destination, "0035799123456");
    assert.deepEqual(args.application, { name: "bridge", data: "sofia/gateway/provider/0035799123456" });
    assert.equal(args.variables.effective_caller_id_name, "Alice Smith");
    assert.deepEqual(Object.keys(args.variables).filter(isCrmVariable), ["crm_id"]);
  });

  it("reads an eavesdrop (fs-real-19s) and a dialplan destination", () => {
    const spy = parseOriginateArguments(
      "{origination_caller_id_number=1005}user/1005 &eavesdrop(08ae2cec-b36f-476d-9659-f670af6e879b)",
    );
    assert.deepEqual(spy.application, { name: "eavesdrop", data: "08ae2cec-b36f-476d-9659-f670af6e879b" });
    assert.equal(spy.destination, "");
    const dialplan = parseOriginateArguments("{callmesh_call_id=c-1,x='a, b'}user/1001 0035799123456 XML default");
    assert.equal(dialplan.destination, "0035799123456");
    assert.equal(dialplan.variables.x, "a, b");
    assert.equal(dialplan.variables.callmesh_call_id, "c-1");
  });

  it("finds the number a bridge dials", () => {
    assert.equal(bridgeDestination("user/1002@127.0.0.1"), "1002");
    assert.equal(bridgeDestination("{a=1}[leg_timeout=10]user/1001@d|user/1002@d"), "1001");
    assert.equal(bridgeDestination("sofia/gateway/provider/0035799123456"), "0035799123456");
  });
});

describe("click-to-call command", () => {
  const command = (
    fields: {
      extension?: string;
      destination?: string;
      callId?: string;
      timeoutSeconds?: number;
      variables?: Record<string, string>;
    } = {},
  ) => create(OriginateSchema, { callId: "c-1", extension: "1001", destination: "0035799123456", ...fields });

  it("rings user/<ext>, then runs the destination through the dialplan, with the call id and the CRM's variables", () => {
    const plan = buildOriginateCommand(
      command({ variables: { crm_id: "abc 1,2" }, timeoutSeconds: 12 }),
      "default",
      30,
    );
    assert.deepEqual(plan, {
      command:
        "originate {callmesh_call_id=c-1,origination_caller_id_number=0035799123456,effective_caller_id_number=1001,originate_timeout=12,ignore_early_media=true,crm_id='abc 1,2'}user/1001 0035799123456 XML default",
    });
  });

  it("refuses what would change the dial string", () => {
    assert.ok("refusal" in buildOriginateCommand(command({ extension: "1001 &park" }), "default", 30));
    assert.ok("refusal" in buildOriginateCommand(command({ destination: "1}" }), "default", 30));
    assert.ok("refusal" in buildOriginateCommand(command({ variables: { crm_id: "a'b" } }), "default", 30));
    assert.ok("refusal" in buildOriginateCommand(command({ variables: { callmesh_call_id: "x" } }), "default", 30));
    assert.ok("refusal" in buildOriginateCommand(command({ callId: "a\nb" }), "default", 30));
  });

  it("maps BACKGROUND_JOB verdicts", () => {
    assert.equal(outcomeOfOriginateJob("+OK 68530082-94bf-45df-a220-7db8bccf4d54\n").status, CommandStatus.OK);
    assert.equal(outcomeOfOriginateJob("-ERR NO_ANSWER\n").status, CommandStatus.OK);
    assert.equal(outcomeOfOriginateJob("-ERR USER_NOT_REGISTERED\n").status, CommandStatus.EXTENSION_UNAVAILABLE);
    assert.equal(outcomeOfOriginateJob("-ERR SUBSCRIBER_ABSENT\n").status, CommandStatus.EXTENSION_UNKNOWN);
    assert.equal(outcomeOfOriginateJob("-ERR USER_BUSY\n").status, CommandStatus.PBX_REFUSED);
  });
});
