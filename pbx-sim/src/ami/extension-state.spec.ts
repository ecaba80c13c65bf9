import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createExtensionStates } from "./extension-state.js";

describe("extension-state", () => {
  it("reports hints as Asterisk does", () => {
    const states = createExtensionStates({ "1001": "registered", "1002": "unregistered" });
    assert.deepEqual(states.status("1001", "from-internal"), { hint: "PJSIP/1001", status: 0, statusText: "Idle" });
    assert.deepEqual(states.status("1002", "ext-local"), { hint: "PJSIP/1002", status: 4, statusText: "Unavailable" });
    assert.deepEqual(states.status("1003", "from-internal"), { hint: "", status: -1, statusText: "Unknown" });
    assert.deepEqual(states.status("1001", "default"), { hint: "", status: -1, statusText: "Unknown" });
    assert.equal(states.status("constructor", "from-internal").status, -1);
  });

  it("follows the device states played calls emit", () => {
    const states = createExtensionStates({ "1001": "registered", "1002": "unregistered" });
    states.observeDeviceState("PJSIP/1001", "RINGING");
    assert.equal(states.status("1001", "from-internal").statusText, "Ringing");
    states.observeDeviceState("PJSIP/1001", "INUSE");
    assert.equal(states.status("1001", "from-internal").status, 1);
    states.observeDeviceState("PJSIP/1001", "NOT_INUSE");
    assert.equal(states.status("1001", "from-internal").status, 0);
    states.observeDeviceState("PJSIP/1002", "NOT_INUSE");
    assert.equal(states.status("1002", "from-internal").status, 4);
  });
});
