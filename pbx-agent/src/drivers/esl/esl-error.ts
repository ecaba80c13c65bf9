/**
 * Why talking to FreeSWITCH failed, in a closed set the driver maps to CommandStatus.
 * - unavailable: cannot reach the event socket (refused, unreachable, not connected)
 * - deadline: FreeSWITCH did not answer in time
 * - aborted: the connection broke while a command was in flight
 * - unauthenticated: `auth` was refused, or the ACL sent a rude rejection
 * - invalid_argument: the command cannot be written safely (a line break in a value…)
 */
export type EslErrorCode = "unavailable" | "deadline" | "aborted" | "unauthenticated" | "invalid_argument";

export class EslError extends Error {
  readonly code: EslErrorCode;

  constructor(code: EslErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EslError";
    this.code = code;
  }
}

const ABORTED = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** Classifies a socket failure once, at the edge, keeping the original as `cause`. */
export function classifyEslSocketError(error: unknown, what: string): EslError {
  if (error instanceof EslError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "ETIMEDOUT") return new EslError("deadline", `${what}: ${detail}`, { cause: error });
  if (ABORTED.has(code)) return new EslError("aborted", `${what}: ${detail}`, { cause: error });
  return new EslError("unavailable", `${what}: ${detail}`, { cause: error });
}
