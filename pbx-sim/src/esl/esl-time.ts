const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (value: number) => String(value).padStart(2, "0");

/** `2026-12-01 12:02:16`: Event-Date-Local and `*_stamp` of a box on UTC, as the recorded one was. */
export const formatLocalDate = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 19).replace("T", " ");

/** `Tue, 01 Dec 2026 12:02:16 GMT` (Event-Date-GMT, RFC 822 with a two-digit day). */
export function formatGmtDate(sec: number): string {
  const date = new Date(sec * 1000);
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${time} GMT`;
}
