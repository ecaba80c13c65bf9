/**
 * Why talking to the PBX failed, in a closed set the driver maps to CommandStatus.
 * - unavailable: cannot reach the PBX (refused, unreachable, not connected)
 * - deadline: the PBX did not answer in time
 * - aborted: the connection broke while a request was in flight
 * - unauthenticated: the AMI login was refused
 * - invalid_argument: the request cannot be written as AMI (CR/LF in a value…)
 */
export type AmiErrorCode = "unavailable" | "deadline" | "aborted" | "unauthenticated" | "invalid_argument";

export class AmiError extends Error {
  readonly code: AmiErrorCode;

  constructor(code: AmiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AmiError";
    this.code = code;
  }
}

const UNAVAILABLE = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EADDRNOTAVAIL"]);
const ABORTED = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/**
 * Classifies a socket failure once, here at the edge, keeping the original as `cause`:
 * refused or unreachable → unavailable, timed out → deadline, reset → aborted.
 */
export function classifySocketError(error: unknown, what: string): AmiError {
  if (error instanceof AmiError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "ETIMEDOUT") return new AmiError("deadline", `${what}: ${detail}`, { cause: error });
  if (ABORTED.has(code)) return new AmiError("aborted", `${what}: ${detail}`, { cause: error });
  if (UNAVAILABLE.has(code)) return new AmiError("unavailable", `${what}: ${detail}`, { cause: error });
  return new AmiError("unavailable", `${what}: ${detail}`, { cause: error });
}
