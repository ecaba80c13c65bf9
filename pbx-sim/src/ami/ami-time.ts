/** `<epoch>.<micro>` as Asterisk prints Timestamp (timestampevents=yes) and Ping's Timestamp. */
export const formatAmiTimestamp = (us: number) =>
  `${Math.floor(us / 1_000_000)}.${String(us % 1_000_000).padStart(6, "0")}`;
