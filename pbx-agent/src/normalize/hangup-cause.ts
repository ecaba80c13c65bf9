import { create } from "@bufbuild/protobuf";
import { type HangupCause, HangupCauseSchema } from "@callmesh/gen/callmesh/events/v1/call_pb.js";

/**
 * Q.850 cause names as Asterisk's causes.h spells them without `AST_CAUSE_` (the same
 * names FreeSWITCH uses for the codes both know): `16` → `NORMAL_CLEARING`.
 */
const Q850_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "NOT_DEFINED"],
  [1, "UNALLOCATED"],
  [2, "NO_ROUTE_TRANSIT_NET"],
  [3, "NO_ROUTE_DESTINATION"],
  [5, "MISDIALLED_TRUNK_PREFIX"],
  [6, "CHANNEL_UNACCEPTABLE"],
  [7, "CALL_AWARDED_DELIVERED"],
  [8, "PRE_EMPTED"],
  [14, "NUMBER_PORTED_NOT_HERE"],
  [16, "NORMAL_CLEARING"],
  [17, "USER_BUSY"],
  [18, "NO_USER_RESPONSE"],
  [19, "NO_ANSWER"],
  [20, "SUBSCRIBER_ABSENT"],
  [21, "CALL_REJECTED"],
  [22, "NUMBER_CHANGED"],
  [23, "REDIRECTED_TO_NEW_DESTINATION"],
  [26, "ANSWERED_ELSEWHERE"],
  [27, "DESTINATION_OUT_OF_ORDER"],
  [28, "INVALID_NUMBER_FORMAT"],
  [29, "FACILITY_REJECTED"],
  [30, "RESPONSE_TO_STATUS_ENQUIRY"],
  [31, "NORMAL_UNSPECIFIED"],
  [34, "NORMAL_CIRCUIT_CONGESTION"],
  [38, "NETWORK_OUT_OF_ORDER"],
  [41, "NORMAL_TEMPORARY_FAILURE"],
  [42, "SWITCH_CONGESTION"],
  [43, "ACCESS_INFO_DISCARDED"],
  [44, "REQUESTED_CHAN_UNAVAIL"],
  [50, "FACILITY_NOT_SUBSCRIBED"],
  [52, "OUTGOING_CALL_BARRED"],
  [54, "INCOMING_CALL_BARRED"],
  [57, "BEARERCAPABILITY_NOTAUTH"],
  [58, "BEARERCAPABILITY_NOTAVAIL"],
  [65, "BEARERCAPABILITY_NOTIMPL"],
  [66, "CHAN_NOT_IMPLEMENTED"],
  [69, "FACILITY_NOT_IMPLEMENTED"],
  [81, "INVALID_CALL_REFERENCE"],
  [88, "INCOMPATIBLE_DESTINATION"],
  [95, "INVALID_MSG_UNSPECIFIED"],
  [96, "MANDATORY_IE_MISSING"],
  [97, "MESSAGE_TYPE_NONEXIST"],
  [98, "WRONG_MESSAGE"],
  [99, "IE_NONEXIST"],
  [100, "INVALID_IE_CONTENTS"],
  [101, "WRONG_CALL_STATE"],
  [102, "RECOVERY_ON_TIMER_EXPIRE"],
  [103, "MANDATORY_IE_LENGTH_ERROR"],
  [111, "PROTOCOL_ERROR"],
  [127, "INTERWORKING"],
]);

/** The Q.850 name of `code`; codes Asterisk does not name stay recognisable as `CAUSE_<code>`. */
export function q850CauseName(code: number): string {
  return Q850_NAMES.get(code) ?? `CAUSE_${code}`;
}

export function createHangupCause(q850Code: number, sipCode: number): HangupCause {
  return create(HangupCauseSchema, { q850Code, name: q850CauseName(q850Code), sipCode });
}
