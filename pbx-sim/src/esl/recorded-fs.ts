/** The box the fs-real captures were recorded on, as every event names it. */
export const RECORDED_FS = {
  hostname: "vm",
  ipv4: "192.0.2.2",
  ipv6: "fd00::2",
  version: "1.10.12-release~64bit",
  /** switch.conf.xml max-sessions of the recorded box. */
  maxSessions: 200,
} as const;

/** event_socket.conf.xml's default password. */
export const DEFAULT_ESL_PASSWORD = "ClueCon";

/** FreeSWITCH's default HEARTBEAT interval (switch.conf.xml event-heartbeat-interval). */
export const DEFAULT_HEARTBEAT_MS = 20_000;
