/** Asterisk's event classes (include/asterisk/manager.h EVENT_FLAG_*), named as manager.conf and `Privilege:` name them. */
const EVENT_CLASSES: ReadonlyArray<readonly [name: string, flag: number]> = [
  ["system", 1 << 0],
  ["call", 1 << 1],
  ["log", 1 << 2],
  ["verbose", 1 << 3],
  ["command", 1 << 4],
  ["agent", 1 << 5],
  ["user", 1 << 6],
  ["config", 1 << 7],
  ["dtmf", 1 << 8],
  ["reporting", 1 << 9],
  ["cdr", 1 << 10],
  ["dialplan", 1 << 11],
  ["originate", 1 << 12],
  ["agi", 1 << 13],
  ["cc", 1 << 15],
  ["aoc", 1 << 16],
  ["test", 1 << 17],
  ["security", 1 << 18],
  ["message", 1 << 30],
];

/** Every class: what `read=all` grants and `EventMask: on` asks for (INT_MAX in Asterisk). */
export const ALL_EVENTS = 0x7fffffff;

// ast_true / ast_false in main/utils.c.
const TRUE_WORDS = new Set(["yes", "true", "y", "t", "1", "on"]);
const FALSE_WORDS = new Set(["no", "false", "n", "f", "0", "off"]);

/** Whether Asterisk's ast_true() reads the value as true (e.g. `Async: yes`). */
export const isAsteriskTrue = (value: string) => TRUE_WORDS.has(value.trim().toLowerCase());

/**
 * An `EventMask`/`Events` value as Asterisk's strings_to_mask reads it: digits are the mask itself,
 * false words 0, true words every class, else the comma-listed class names (unknown names count 0);
 * empty is -1, which the Events action answers "Invalid event mask".
 */
export function parseEventMask(value: string): number {
  const text = value.trim();
  if (text === "") return -1;
  if (/^\d+$/.test(text)) return Number.parseInt(text, 10) & ALL_EVENTS;
  const word = text.toLowerCase();
  if (FALSE_WORDS.has(word)) return 0;
  if (TRUE_WORDS.has(word)) return ALL_EVENTS;
  const names = new Set(word.split(",").map((name) => name.trim()));
  if (names.has("all")) return ALL_EVENTS;
  return EVENT_CLASSES.reduce((mask, [name, flag]) => (names.has(name) ? mask | flag : mask), 0);
}

/** The classes an event belongs to, from its `Privilege: call,all` line ("all" is only decoration). */
export function privilegeMask(privilege: string): number {
  const names = new Set(privilege.split(",").map((name) => name.trim().toLowerCase()));
  return EVENT_CLASSES.reduce((mask, [name, flag]) => (names.has(name) ? mask | flag : mask), 0);
}

/** Asterisk sends an event to a session only if the session takes every class the event has. */
export const wantsEvent = (sessionMask: number, eventMask: number) =>
  eventMask !== 0 && (sessionMask & eventMask) === eventMask;
