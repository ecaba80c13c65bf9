import { type EslEvent, eventHeader } from "./esl-event.js";
import { formatLocalDate } from "./esl-time.js";

/** A row of FreeSWITCH's `channels` table (switch_core_sqldb.c), every value a string as SQLite returns it. */
export type ChannelRow = Record<(typeof COLUMNS)[number], string>;

const COLUMNS = [
  "uuid",
  "direction",
  "created",
  "created_epoch",
  "name",
  "state",
  "cid_name",
  "cid_num",
  "ip_addr",
  "dest",
  "application",
  "application_data",
  "dialplan",
  "context",
  "read_codec",
  "read_rate",
  "read_bit_rate",
  "write_codec",
  "write_rate",
  "write_bit_rate",
  "secure",
  "hostname",
  "presence_id",
  "presence_data",
  "accountcode",
  "callstate",
  "callee_name",
  "callee_num",
  "callee_direction",
  "call_uuid",
  "sent_callee_name",
  "sent_callee_num",
  "initial_cid_name",
  "initial_cid_num",
  "initial_ip_addr",
  "initial_dest",
  "initial_dialplan",
  "initial_context",
] as const;

// Columns the core database refreshes from a channel's events, and the header each comes from.
const FROM_EVENT: ReadonlyArray<readonly [keyof ChannelRow, string]> = [
  ["direction", "Call-Direction"],
  ["name", "Channel-Name"],
  ["state", "Channel-State"],
  ["cid_name", "Caller-Caller-ID-Name"],
  ["cid_num", "Caller-Caller-ID-Number"],
  ["ip_addr", "Caller-Network-Addr"],
  ["dest", "Caller-Destination-Number"],
  ["application", "variable_current_application"],
  ["application_data", "variable_current_application_data"],
  ["dialplan", "Caller-Dialplan"],
  ["context", "Caller-Context"],
  ["read_codec", "Channel-Read-Codec-Name"],
  ["read_rate", "Channel-Read-Codec-Rate"],
  ["read_bit_rate", "Channel-Read-Codec-Bit-Rate"],
  ["write_codec", "Channel-Write-Codec-Name"],
  ["write_rate", "Channel-Write-Codec-Rate"],
  ["write_bit_rate", "Channel-Write-Codec-Bit-Rate"],
  ["hostname", "FreeSWITCH-Hostname"],
  ["presence_id", "Channel-Presence-ID"],
  ["presence_data", "Channel-Presence-Data"],
  ["accountcode", "variable_accountcode"],
  ["callstate", "Channel-Call-State"],
  ["callee_name", "Caller-Callee-ID-Name"],
  ["callee_num", "Caller-Callee-ID-Number"],
  ["call_uuid", "Channel-Call-UUID"],
  ["sent_callee_name", "Sent-Callee-ID-Name"],
  ["sent_callee_num", "Sent-Callee-ID-Number"],
];

/** The channels in progress, kept from the events the simulator plays (what `show channels` reads). */
export interface ChannelTable {
  observe(event: EslEvent): void;
  /** The last event that carried the channel's data (what a modeled event about it starts from). */
  readonly lastEvent: (uuid: string) => EslEvent | undefined;
  /** The channels whose last event names `uuid` as their other leg (the legs a caller's originate rings). */
  readonly partnersOf: (uuid: string) => string[];
  readonly rows: () => readonly ChannelRow[];
  readonly count: () => number;
}

export function createChannelTable(): ChannelTable {
  const rows = new Map<string, ChannelRow>();
  const last = new Map<string, EslEvent>();
  return {
    observe(event) {
      const uuid = eventHeader(event, "Unique-ID");
      if (!uuid) return;
      const name = eventHeader(event, "Event-Name");
      if (name === "CHANNEL_DESTROY") {
        rows.delete(uuid);
        last.delete(uuid);
        return;
      }
      let row = rows.get(uuid);
      if (!row) {
        if (name !== "CHANNEL_CREATE") return;
        const epoch = Math.floor(Number(eventHeader(event, "Caller-Channel-Created-Time") ?? 0) / 1_000_000);
        const value = (header: string) => eventHeader(event, header) ?? "";
        row = Object.fromEntries(COLUMNS.map((column) => [column, ""])) as ChannelRow;
        Object.assign(row, {
          uuid,
          created: formatLocalDate(epoch),
          created_epoch: String(epoch),
          initial_cid_name: value("Caller-Caller-ID-Name"),
          initial_cid_num: value("Caller-Caller-ID-Number"),
          initial_ip_addr: value("Caller-Network-Addr"),
          initial_dest: value("Caller-Destination-Number"),
          initial_dialplan: value("Caller-Dialplan"),
          initial_context: value("Caller-Context"),
        });
        rows.set(uuid, row);
      }
      for (const [column, header] of FROM_EVENT) {
        const value = eventHeader(event, header);
        if (value !== undefined) row[column] = value;
      }
      // Events with the channel's variables (CHANNEL_*, not CODEC or PRESENCE_IN) carry all of its data;
      // a CUSTOM one adds its module's own headers (conference::maintenance's Conference-*, Action) to it.
      if (
        name !== "CUSTOM" &&
        eventHeader(event, "Channel-Name") !== undefined &&
        event.headers.some(([key]) => key.startsWith("variable_"))
      ) {
        last.set(uuid, event);
      }
    },
    lastEvent: (uuid) => last.get(uuid),
    partnersOf: (uuid) =>
      [...last.entries()].filter(([, event]) => eventHeader(event, "Other-Leg-Unique-ID") === uuid).map(([leg]) => leg),
    rows: () => [...rows.values()],
    count: () => rows.size,
  };
}

/** `show channels as json`, printed as mod_commands does (no rows: its own literal with a space). */
export function channelsAsJson(rows: readonly ChannelRow[]): string {
  if (rows.length === 0) return '{"row_count": 0}\n';
  return JSON.stringify({ row_count: rows.length, rows });
}

/** `show channels`: a CSV header, one line per channel, then the total. */
export function channelsAsDelimited(rows: readonly ChannelRow[]): string {
  const lines = [COLUMNS.join(","), ...rows.map((row) => COLUMNS.map((column) => row[column]).join(","))];
  // mod_commands prints the header with the first row: no rows, no header.
  return `${rows.length > 0 ? `${lines.join("\n")}\n` : ""}\n${rows.length} total.\n`;
}
