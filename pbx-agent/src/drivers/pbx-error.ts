/**
 * Why talking to the PBX failed, in a closed set the drivers map to CommandStatus.
 * - unavailable: cannot reach the PBX (refused, unreachable, not connected)
 * - deadline: the PBX did not answer in time
 * - aborted: the connection broke while a request was in flight
 * - unauthenticated: the PBX refused the login
 * - invalid_argument: the request cannot be written in the PBX's protocol (CR/LF in a value…)
 */
export type PbxErrorCode = "unavailable" | "deadline" | "aborted" | "unauthenticated" | "invalid_argument";

/** The error of a driver's connection; each driver has its own subclass (AmiError, EslError). */
export class PbxError extends Error {
  readonly code: PbxErrorCode;

  constructor(code: PbxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PbxError";
    this.code = code;
  }
}

/** A driver's PbxError subclass, to classify into and to recognise. */
export type PbxErrorClass<E extends PbxError> = new (
  code: PbxErrorCode,
  message: string,
  options?: { cause?: unknown },
) => E;

const ABORTED = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/**
 * Classifies a socket failure once, at the edge, into the driver's error class, keeping
 * the original as `cause`: timed out → deadline, reset → aborted, anything else (refused,
 * unreachable, unknown host…) → unavailable. An error of that class already is returned as is.
 */
export function classifySocketFailure<E extends PbxError>(
  errorClass: PbxErrorClass<E>,
  error: unknown,
  what: string,
): E {
  if (error instanceof errorClass) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "ETIMEDOUT") return new errorClass("deadline", `${what}: ${detail}`, { cause: error });
  if (ABORTED.has(code)) return new errorClass("aborted", `${what}: ${detail}`, { cause: error });
  return new errorClass("unavailable", `${what}: ${detail}`, { cause: error });
}
