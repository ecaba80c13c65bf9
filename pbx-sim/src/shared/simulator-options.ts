/** A TCP port to listen on; 0 (the default) takes a random free one. */
export function checkPort(port = 0): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0..65535, got ${port}`);
  return port;
}

/** Multiplies the recorded gaps between events: 1 real time (the default), 0 no delay. */
export function checkTimeScale(timeScale = 1): number {
  if (!Number.isFinite(timeScale) || timeScale < 0) throw new RangeError(`timeScale must be >= 0, got ${timeScale}`);
  return timeScale;
}

/** Extensions go into dial strings and header values: digits, letters and dial-plan symbols only. */
export function checkExtensionName(extension: string): string {
  if (!/^[0-9A-Za-z*#+_-]+$/.test(extension)) throw new RangeError(`bad extension ${JSON.stringify(extension)}`);
  return extension;
}
