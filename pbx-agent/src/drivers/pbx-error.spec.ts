import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AmiError, classifySocketError } from "./ami/ami-error.js";
import { classifyEslSocketError, EslError } from "./esl/esl-error.js";
import { PbxError } from "./pbx-error.js";

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe("socket failure classification", () => {
  it("maps timeouts to deadline, resets to aborted, the rest to unavailable, keeping the cause", () => {
    for (const [code, expected] of [
      ["ETIMEDOUT", "deadline"],
      ["ECONNRESET", "aborted"],
      ["EPIPE", "aborted"],
      ["ECONNREFUSED", "unavailable"],
      ["ENOTFOUND", "unavailable"],
      ["EWHATEVER", "unavailable"],
    ] as const) {
      const cause = errno(code);
      const ami = classifySocketError(cause, "AMI connect");
      assert.ok(ami instanceof AmiError && ami instanceof PbxError);
      assert.equal(ami.name, "AmiError");
      assert.equal(ami.code, expected);
      assert.equal(ami.message, `AMI connect: connect ${code}`);
      assert.equal(ami.cause, cause);
      const esl = classifyEslSocketError(cause, "ESL connect");
      assert.ok(esl instanceof EslError);
      assert.equal(esl.name, "EslError");
      assert.equal(esl.code, expected);
    }
  });

  it("returns the driver's own error as is", () => {
    const own = new EslError("unauthenticated", "ESL auth refused: -ERR invalid");
    assert.equal(classifyEslSocketError(own, "ESL connect"), own);
    assert.equal(classifySocketError("boom", "AMI connect").message, "AMI connect: boom");
  });
});
