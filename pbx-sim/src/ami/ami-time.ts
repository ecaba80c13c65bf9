/** Microseconds since the epoch, with sub-millisecond resolution. */
export const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

/** `<epoch>.<micro>` as Asterisk prints Timestamp (timestampevents=yes) and Ping's Timestamp. */
export const formatAmiTimestamp = (us: number) =>
  `${Math.floor(us / 1_000_000)}.${String(us % 1_000_000).padStart(6, "0")}`;
