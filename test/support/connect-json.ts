import { fromBinary } from "@bufbuild/protobuf";
import { ErrorInfoSchema } from "@callmesh/gen/callmesh/crm/v1/error_info_pb.js";

/** The `ErrorInfo.reason` of a Connect JSON error body, as a CRM would branch on it. */
export function reasonOf(json: Record<string, unknown>): string | undefined {
  const details = (json.details ?? []) as { type?: string; value?: string }[];
  const info = details.find((detail) => detail.type === "callmesh.crm.v1.ErrorInfo");
  return info?.value ? fromBinary(ErrorInfoSchema, Buffer.from(info.value, "base64")).reason : undefined;
}
