import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALL_EVENTS, isAsteriskTrue, parseEventMask, privilegeMask, wantsEvent } from "./event-mask.js";

describe("event-mask", () => {
  it("reads EventMask values as strings_to_mask does", () => {
    assert.equal(parseEventMask("on"), ALL_EVENTS);
    assert.equal(parseEventMask("Yes"), ALL_EVENTS);
    assert.equal(parseEventMask("off"), 0);
    assert.equal(parseEventMask("call,cdr"), 2 | 1024);
    assert.equal(parseEventMask("nonsense"), 0);
    assert.equal(parseEventMask("2"), 2);
    assert.equal(parseEventMask(""), -1);
  });

  it("sends an event only to sessions taking all its classes", () => {
    const call = privilegeMask("call,all");
    assert.equal(call, 2);
    assert.ok(wantsEvent(ALL_EVENTS, call));
    assert.ok(wantsEvent(parseEventMask("call"), call));
    assert.ok(!wantsEvent(parseEventMask("cdr"), call));
    assert.ok(!wantsEvent(0, call));
  });

  it("reads Async values as ast_true does", () => {
    assert.ok(isAsteriskTrue("true") && isAsteriskTrue("yes") && isAsteriskTrue("1"));
    assert.ok(!isAsteriskTrue("false") && !isAsteriskTrue(""));
  });
});
