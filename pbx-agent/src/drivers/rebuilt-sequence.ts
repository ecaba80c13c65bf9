/** The fixed floor: a run numbering a call from 1 never reaches it (no call has 1000 events). */
const FLOOR = 1000;
/** `sequence` is a uint32: leave room for the events after the base (a call of ~48 days at most). */
const MAX_ELAPSED_MS = 2 ** 32 - 1 - FLOOR - 2 ** 24;

/**
 * Where the sequence of a call rebuilt from the PBX alone (an agent restarted without the call's
 * state) continues, so that its event ids (`<call id>:<sequence>`) sort after, and never repeat,
 * any the runs before emitted: 1000 plus the milliseconds since the call began on the PBX. The
 * start is the PBX's own (Asterisk's Linkedid, FreeSWITCH's created_epoch), the same in every run,
 * so a second rebuild starts past the first one's events unless that run emitted more than one
 * event a millisecond. A start the clock disagrees with (in the future, or weeks ago) gives the
 * floor alone.
 */
export function rebuiltSequenceBase(startedMs: number, nowMs: number): number {
  const elapsed = Math.floor(nowMs - startedMs);
  return Number.isFinite(elapsed) && elapsed > 0 && elapsed <= MAX_ELAPSED_MS ? FLOOR + elapsed : FLOOR;
}
