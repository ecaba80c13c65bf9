/**
 * Call times are kept as integer microseconds since the epoch: AMI's `Timestamp:
 * 1796125061.659274` is exact at that resolution (a float of milliseconds is not), and
 * webhooks want `*_uepoch` in microseconds.
 */
export function parseAmiTimestamp(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const dot = value.indexOf(".");
  const whole = Number(dot < 0 ? value : value.slice(0, dot));
  if (!Number.isSafeInteger(whole) || whole < 0) return undefined;
  let fraction = 0;
  if (dot >= 0) {
    const digits = value.slice(dot + 1, dot + 7).padEnd(6, "0");
    fraction = Number(digits);
    if (!Number.isInteger(fraction) || fraction < 0) return undefined;
  }
  return whole * 1_000_000 + fraction;
}
