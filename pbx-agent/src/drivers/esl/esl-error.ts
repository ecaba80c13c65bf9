import { classifySocketFailure, PbxError, type PbxErrorCode } from "../pbx-error.js";

/** See PbxErrorCode; unauthenticated: `auth` was refused, or the ACL sent a rude rejection. */
export type EslErrorCode = PbxErrorCode;

export class EslError extends PbxError {
  constructor(code: EslErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "EslError";
  }
}

/** Classifies a socket failure into an EslError (see classifySocketFailure). */
export function classifyEslSocketError(error: unknown, what: string): EslError {
  return classifySocketFailure(EslError, error, what);
}
