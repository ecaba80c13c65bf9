/**
 * Turns the raw byte stream of one PBX session (AMI or ESL) into CallEvents and Cdrs.
 * Pure and deterministic: time comes from the events themselves, so replaying a capture
 * always gives the same output. The live driver, the replay CLI and the bench all feed
 * bytes through this port; each driver provides a factory (`createAmiNormalizer`…).
 */
export interface PbxNormalizer {
  /** raw bytes as the PBX sent them, any chunking */
  push(chunk: Uint8Array): void;
  /** end of stream: emits what is still pending (Cdr grace) */
  end(): void;
}
