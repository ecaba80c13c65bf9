import { create } from "@bufbuild/protobuf";
import { ErrorInfoSchema } from "@callmesh/gen/callmesh/crm/v1/error_info_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { GatewayError, type GatewayErrorKind } from "../domain/errors.js";

const codes: Record<GatewayErrorKind, Code> = {
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  invalid_argument: Code.InvalidArgument,
  failed_precondition: Code.FailedPrecondition,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
};

/** The one place where domain errors become Connect errors, with an ErrorInfo detail carrying the reason. */
export function toConnectError(error: unknown, logger: Logger): ConnectError {
  if (error instanceof GatewayError) {
    return new ConnectError(error.message, codes[error.kind], undefined, [
      { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: error.reason }) },
    ]);
  }
  if (error instanceof ConnectError) return error;
  // A bug or an unexpected failure: log the cause, never send it.
  logger.error({ err: error }, "unexpected error in a request");
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/** Maps whatever a handler throws through toConnectError: unary ones, and server streams while they run. */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, logger) };
    } catch (error) {
      throw toConnectError(error, logger);
    }
  };
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, logger: Logger): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error, logger);
  }
}
