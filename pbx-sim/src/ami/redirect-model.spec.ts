import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHANNEL_KEYS } from "./channel-table.js";
import { changedChannel, freshChannel } from "./modeled-events.js";
import {
  conferenceBridge,
  conferenceEvents,
  conferenceLeaveEvents,
  dialRedirectEvents,
  MODELED_RING_US,
} from "./redirect-model.js";

const nowUs = 1_796_124_957_000_000;
const caller = freshChannel({
  name: "PJSIP/provider-0000002f",
  uniqueid: "1796124957.55",
  linkedid: "1796124957.55",
  callerIdNum: "+35799123456",
  callerIdName: "John Customer",
  context: "ext-local",
  exten: "1001",
  state: "4",
  atUs: nowUs,
});
const ringing = changedChannel(
  freshChannel({
    name: "PJSIP/1001-00000030",
    uniqueid: "1796124957.56",
    linkedid: "1796124957.55",
    callerIdNum: "1001",
    callerIdName: "Alice Smith",
    context: "from-internal",
    exten: "1001",
    atUs: nowUs,
  }),
  { ChannelState: "5" },
);
const basic = { id: "b-1", type: "basic", technology: "simple_bridge", creator: "<unknown>", name: "<unknown>" };
const keysOf = (event: { lines: ReadonlyArray<readonly [string, string]> }) => event.lines.map(([key]) => key);
const value = (event: { lines: ReadonlyArray<readonly [string, string]> } | undefined, key: string) =>
  event?.lines.find(([name]) => name === key)?.[1];

describe("redirect-model", () => {
  it("a Redirect to a phone: the ringing leg is cancelled as 05e's, the phone rings 2 s, answers, is bridged", () => {
    const events = dialRedirectEvents({
      moved: caller,
      others: [ringing],
      context: "from-internal",
      phone: { extension: "1007", name: "Grace Hall", counter: 0x31, uniqueid: "1796124957.57" },
      bridge: basic,
      bridges: new Map(),
      nowUs,
    });
    assert.deepEqual(
      events.map((event) => `${event.event} ${value(event, "Channel") ?? value(event, "Device") ?? ""}`),
      [
        "DialEnd PJSIP/provider-0000002f",
        "Hangup PJSIP/1001-00000030",
        "DeviceStateChange PJSIP/1001",
        "Newexten PJSIP/provider-0000002f",
        "Newchannel PJSIP/1007-00000031",
        "DialBegin PJSIP/provider-0000002f",
        "DialState PJSIP/provider-0000002f",
        "Newstate PJSIP/1007-00000031",
        "DeviceStateChange PJSIP/1007",
        "Newstate PJSIP/1007-00000031",
        "DeviceStateChange PJSIP/1007",
        "DialEnd PJSIP/provider-0000002f",
        "Newstate PJSIP/provider-0000002f",
        "BridgeCreate ",
        "BridgeEnter PJSIP/1007-00000031",
        "BridgeEnter PJSIP/provider-0000002f",
      ],
    );
    assert.equal(value(events[0], "DialStatus"), "CANCEL");
    assert.deepEqual(keysOf(events[1] ?? { lines: [] }), [
      "Event",
      "Privilege",
      "Timestamp",
      ...CHANNEL_KEYS,
      "Cause",
      "Cause-txt",
    ]);
    const answered = events[9];
    assert.equal(value(answered, "ChannelStateDesc"), "Up");
    assert.ok((answered?.atUs ?? 0) - (events[7]?.atUs ?? 0) >= MODELED_RING_US);
    // 14n's BridgeEnter: the bridge block, then the channel's.
    assert.deepEqual(keysOf(events[15] ?? { lines: [] }).slice(3, 10), [
      "BridgeUniqueid",
      "BridgeType",
      "BridgeTechnology",
      "BridgeCreator",
      "BridgeName",
      "BridgeNumChannels",
      "BridgeVideoSourceMode",
    ]);
    for (const event of events) assert.ok(event.text.endsWith("\r\n\r\n") && !/[^\r]\n/.test(event.text));
  });

  it("a dual Redirect into a room: both leave their bridge together, join it; the last to leave ends it", () => {
    const up = (channel: typeof caller) => ({ ...changedChannel(channel, { ChannelState: "6" }), bridgeId: "b-1" });
    const [one, two] = [up(caller), up(ringing)];
    const room = conferenceBridge("c-1", "sales-weekly");
    const events = conferenceEvents({
      moved: [one, two],
      others: [two],
      context: "from-internal",
      room: "sales-weekly",
      bridge: room,
      members: 0,
      bridges: new Map([["b-1", basic]]),
      nowUs,
    });
    assert.deepEqual(
      events.map((event) => event.event),
      [
        "BridgeLeave",
        "BridgeLeave",
        "BridgeDestroy",
        "Newexten",
        "BridgeCreate",
        "ConfbridgeStart",
        "BridgeEnter",
        "ConfbridgeJoin",
        "Newexten",
        "BridgeEnter",
        "ConfbridgeJoin",
      ],
    );
    const join = events[7];
    assert.deepEqual(keysOf(join ?? { lines: [] }), [
      "Event",
      "Privilege",
      "Timestamp",
      "Conference",
      "BridgeUniqueid",
      "BridgeType",
      "BridgeTechnology",
      "BridgeCreator",
      "BridgeName",
      "BridgeNumChannels",
      "BridgeVideoSourceMode",
      ...CHANNEL_KEYS,
      "Admin",
      "Muted",
    ]);
    assert.equal(value(join, "BridgeTechnology"), "softmix");
    const leaving = conferenceLeaveEvents(one, "sales-weekly", room, 0, nowUs);
    assert.deepEqual(
      leaving.map((event) => event.event),
      ["ConfbridgeLeave", "BridgeLeave", "ConfbridgeEnd", "BridgeDestroy"],
    );
  });
});
