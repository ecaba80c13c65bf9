import { classifySocketFailure, PbxError, type PbxErrorCode } from "../pbx-error.js";

/** See PbxErrorCode; unauthenticated: the AMI login was refused. */
export type AmiErrorCode = PbxErrorCode;

export class AmiError extends PbxError {
  constructor(code: AmiErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "AmiError";
  }
}

/** Classifies a socket failure into an AmiError (see classifySocketFailure). */
export function classifySocketError(error: unknown, what: string): AmiError {
  return classifySocketFailure(AmiError, error, what);
}
