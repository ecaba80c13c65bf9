/** Microseconds since the epoch, with sub-millisecond resolution. */
export const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
