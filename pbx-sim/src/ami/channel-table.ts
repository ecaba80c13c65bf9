import type { RenderedEvent } from "./call-render.js";

/** The lines every channel event of Asterisk 20 carries about its channel (manager_channels.c), in order. */
export const CHANNEL_KEYS = [
  "Channel",
  "ChannelState",
  "ChannelStateDesc",
  "CallerIDNum",
  "CallerIDName",
  "ConnectedLineNum",
  "ConnectedLineName",
  "Language",
  "AccountCode",
  "Context",
  "Exten",
  "Priority",
  "Uniqueid",
  "Linkedid",
] as const;

/** A live channel as its latest event described it. */
export interface LiveChannel {
  readonly name: string;
  readonly uniqueid: string;
  readonly linkedid: string;
  /** Its channel lines (CHANNEL_KEYS order), as the next event about it would print them. */
  readonly lines: ReadonlyArray<readonly [string, string]>;
  /** When its Newchannel was played (µs). */
  readonly createdUs: number;
  /** The dialplan application it runs (last Newexten) and its data; "" before any. */
  readonly application: string;
  readonly applicationData: string;
  /** The bridge it is in (BridgeEnter, until BridgeLeave); "" when none. */
  readonly bridgeId: string;
  /** The channel variables its VarSet events set, by name (what Getvar reads). */
  readonly variables: ReadonlyMap<string, string>;
}

/** A bridge as manager_bridges.c prints it (14n's Dial bridge: basic, simple_bridge, no creator or name). */
export interface BridgeBlock {
  readonly id: string;
  readonly type: string;
  readonly technology: string;
  readonly creator: string;
  readonly name: string;
}

/**
 * The channels that exist on the simulated PBX, learnt from the events it plays: a Newchannel
 * adds one, later events about it refresh its lines, its Hangup removes it. Actions that name a
 * channel (Hangup, Redirect, BlindTransfer…) are answered from it, as Asterisk answers from its
 * channel container.
 */
export interface ChannelTable {
  observe(event: RenderedEvent): void;
  /** A live channel by its name (any case) or its Uniqueid, as ast_channel_get_by_name finds it. */
  get(name: string): LiveChannel | undefined;
  /**
   * The first live channel whose name starts with `prefix` (case-insensitive), as ChanSpy's prefix
   * and ast_channel_get_by_name_prefix (the Bridge action) find it; the latter then tries a Uniqueid.
   */
  byPrefix(prefix: string): LiveChannel | undefined;
  /** The live channels of one call (Linkedid), oldest first. */
  ofCall(linkedid: string): LiveChannel[];
  /** A channel hung up by an action: gone at once, before its Hangup event is played. */
  remove(name: string): void;
  /** Every live channel, oldest first (CoreShowChannels). */
  all(): LiveChannel[];
  /** A bridge that exists (BridgeCreate, until BridgeDestroy), by BridgeUniqueid. */
  bridges(): ReadonlyMap<string, BridgeBlock>;
}

export function createChannelTable(): ChannelTable {
  const channels = new Map<string, LiveChannel>();
  const byUniqueid = (uniqueid: string) => [...channels.values()].find((channel) => channel.uniqueid === uniqueid);
  const bridges = new Map<string, BridgeBlock>();
  const field = (event: RenderedEvent, key: string) => event.lines.find(([name]) => name === key)?.[1];
  return {
    observe(event) {
      if (event.event === "BridgeCreate" || event.event === "BridgeDestroy") {
        const id = field(event, "BridgeUniqueid") ?? "";
        if (event.event === "BridgeDestroy") bridges.delete(id);
        else {
          const [type = "", technology = "", creator = "", name = ""] = [
            "BridgeType",
            "BridgeTechnology",
            "BridgeCreator",
            "BridgeName",
          ].map((key) => field(event, key));
          bridges.set(id, { id, type, technology, creator, name });
        }
        return;
      }
      const name = field(event, "Channel");
      if (name === undefined) return;
      if (event.event === "Hangup") {
        channels.delete(name);
        return;
      }
      const uniqueid = field(event, "Uniqueid");
      const linkedid = field(event, "Linkedid");
      if (uniqueid === undefined || linkedid === undefined || field(event, "ChannelState") === undefined) return;
      const known = channels.get(name);
      if (event.event !== "Newchannel" && known === undefined) return;
      const lines = CHANNEL_KEYS.map((key) => [key, field(event, key) ?? ""] as const);
      let bridgeId = known?.bridgeId ?? "";
      if (event.event === "BridgeEnter") bridgeId = field(event, "BridgeUniqueid") ?? "";
      if (event.event === "BridgeLeave") bridgeId = "";
      const newexten = event.event === "Newexten";
      const variables = new Map(known?.variables);
      const variable = event.event === "VarSet" ? field(event, "Variable") : undefined;
      if (variable !== undefined) variables.set(variable, field(event, "Value") ?? "");
      channels.set(name, {
        name,
        uniqueid,
        linkedid,
        lines,
        createdUs: known?.createdUs ?? event.atUs,
        application: newexten ? (field(event, "Application") ?? "") : (known?.application ?? ""),
        applicationData: newexten ? (field(event, "AppData") ?? "") : (known?.applicationData ?? ""),
        bridgeId,
        variables,
      });
    },
    // main/channelstorage_ao2_legacy.c get_by_name_prefix: the name without regard to case, else a Uniqueid.
    get(name) {
      const exact = channels.get(name);
      if (exact !== undefined || name === "") return exact;
      const wanted = name.toLowerCase();
      for (const channel of channels.values()) if (channel.name.toLowerCase() === wanted) return channel;
      return byUniqueid(name);
    },
    byPrefix(prefix) {
      if (prefix === "") return undefined;
      const wanted = prefix.toLowerCase();
      for (const channel of channels.values()) if (channel.name.toLowerCase().startsWith(wanted)) return channel;
      return byUniqueid(prefix);
    },
    ofCall: (linkedid) => [...channels.values()].filter((channel) => channel.linkedid === linkedid),
    remove: (name) => {
      channels.delete(name);
    },
    all: () => [...channels.values()],
    bridges: () => bridges,
  };
}
