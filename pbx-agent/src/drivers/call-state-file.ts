import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { Logger } from "@callmesh/platform/logging.js";

/**
 * What a driver's call tracker must remember across an agent restart (issue 5, recovery): one
 * small file per call in progress, `<key>.call`, rewritten (temp file, fsync, rename, directory
 * fsync) when the call's emitted state changes and deleted once its Cdr went out. PBX-neutral:
 * the key (the PBX's call id) and the state (a JSON value) are the driver's.
 *
 * A file is `callmesh-call-state 1 <crc32 hex> <bytes>\n` followed by the state's JSON; one that
 * does not read back whole (torn, corrupt, another version) is reported, renamed `.unreadable`
 * and not read again. Changes are sealed on a setImmediate and written on the next: after the
 * spool's own write (on a setImmediate too) of the events emitted before them, so a file lags
 * the spool, never leads it.
 */
export interface CallStateFiles {
  /** The states the last run left, by key, as read at open. */
  readonly loaded: ReadonlyMap<string, unknown>;
  /** Files that could not be read: their key (from the name), file and why. */
  readonly unreadable: readonly UnreadableCallState[];
  /** The call's state changed: written within two turns (the latest state put wins). */
  put(key: string, state: unknown): void;
  /** The call is done: its file is deleted within two turns. */
  remove(key: string): void;
  /** Writes what is pending now (at stop). */
  flush(): void;
}

export interface UnreadableCallState {
  readonly key: string;
  readonly file: string;
  readonly reason: string;
}

const MAGIC = "callmesh-call-state";
const VERSION = "1";
const SUFFIX = ".call";

/** Opens (creating it) the directory of call states and reads what it holds. Never throws on a bad file. */
export function openCallStateFiles(dir: string, options: { logger?: Logger } = {}): CallStateFiles {
  const log = options.logger;
  mkdirSync(dir, { recursive: true });
  const loaded = new Map<string, unknown>();
  const unreadable: UnreadableCallState[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name.endsWith(".tmp")) {
      unlinkQuietly(path); // a write a crash cut short; the file it was replacing is still there
      continue;
    }
    if (!name.endsWith(SUFFIX)) continue;
    const key = keyOf(name);
    const result = readStateFile(path);
    if ("state" in result) {
      loaded.set(key, result.state);
      continue;
    }
    unreadable.push({ key, file: path, reason: result.reason });
    try {
      renameSync(path, `${path}.unreadable`);
    } catch {
      // Left in place: reported again at the next start.
    }
  }
  for (const bad of unreadable) {
    log?.warn(
      { pbxCallId: bad.key, file: bad.file, reason: bad.reason },
      "call state unreadable (kept as .unreadable); that call is rebuilt from the PBX alone",
    );
  }

  // key → file text, undefined to delete: changes still open, and those sealed for the next write.
  let pending = new Map<string, string | undefined>();
  let sealed = new Map<string, string | undefined>();
  let scheduled = false;

  const write = () => {
    if (sealed.size === 0) return;
    const batch = [...sealed];
    sealed = new Map();
    for (const [key, text] of batch) {
      const path = join(dir, fileOf(key));
      try {
        if (text === undefined) unlinkQuietly(path);
        else writeAtomically(path, text);
      } catch (error) {
        log?.error({ err: error, pbxCallId: key, file: path }, "call state not saved; retried at its next change");
      }
    }
    try {
      fsyncDir(dir);
    } catch (error) {
      log?.warn({ err: error, dir }, "call state directory not fsync'd");
    }
  };
  /** Moves the open changes behind the sealed ones (the newer text of a key wins). */
  const seal = () => {
    for (const [key, text] of pending) sealed.set(key, text);
    pending = new Map();
  };
  // The spool writes what was appended on a setImmediate. Sealing on one and writing on the next
  // puts every sealed change after the spool's write of the events emitted before it.
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      seal();
      setImmediate(write);
    });
  };
  const flush = () => {
    seal();
    write();
  };

  return {
    loaded,
    unreadable,
    put(key, state) {
      pending.set(key, formatStateFile(state));
      schedule();
    },
    remove(key) {
      pending.set(key, undefined);
      schedule();
    },
    flush,
  };
}

/** The file's text for a state: header line (magic, version, CRC32 and length of the body), then the body. */
export function formatStateFile(state: unknown): string {
  const body = Buffer.from(JSON.stringify(state));
  return `${MAGIC} ${VERSION} ${crc32(body).toString(16).padStart(8, "0")} ${body.length}\n${body.toString()}`;
}

/** A state file read back, or why it cannot be. */
export function readStateFile(path: string): { state: unknown } | { reason: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    return { reason: `cannot read: ${(error as Error).message}` };
  }
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) return { reason: "no header line (torn)" };
  const [magic, version, checksum, length, ...rest] = bytes.subarray(0, newline).toString().split(" ");
  if (magic !== MAGIC || rest.length > 0) return { reason: "not a call state file" };
  if (version !== VERSION) return { reason: `version ${version}, this agent reads ${VERSION}` };
  const body = bytes.subarray(newline + 1);
  if (String(body.length) !== length) return { reason: `${body.length} bytes of ${length} (torn)` };
  if (crc32(body).toString(16).padStart(8, "0") !== checksum) return { reason: "checksum mismatch (corrupt)" };
  try {
    return { state: JSON.parse(body.toString()) };
  } catch {
    return { reason: "not JSON" };
  }
}

/** A key as a file name (URI-encoded: no `/`, nothing a shell or a directory listing would mangle). */
function fileOf(key: string): string {
  return `${encodeURIComponent(key)}${SUFFIX}`;
}

function keyOf(name: string): string {
  const encoded = name.slice(0, -SUFFIX.length);
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.tmp`;
  const fd = openSync(temp, "w");
  try {
    const data = Buffer.from(text);
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
