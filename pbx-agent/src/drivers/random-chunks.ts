/**
 * Cuts `bytes` into chunks of pseudo-random sizes in [1, maxSize], reproducibly from
 * `seed`: how the capture specs prove a parser gives the same output however the
 * socket splits its bytes.
 */
export function randomChunks(bytes: Uint8Array, seed: number, maxSize: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let state = seed >>> 0 || 1;
  for (let offset = 0; offset < bytes.length; ) {
    // xorshift32: deterministic, good enough to vary cut points.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const size = 1 + ((state >>> 0) % maxSize);
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}
