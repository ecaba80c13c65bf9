import { type EslEvent, type EslEventFormat, eventHeader } from "./esl-event.js";
import { EVENT_TYPES, toEventType } from "./esl-event-names.js";

/** One `filter <header> <value>`: `/…/` a regex, else a case-insensitive match; a leading `-` excludes. */
interface EventFilter {
  readonly header: string;
  readonly value: string;
}

/** What one listener receives: mod_event_socket's event_list, custom subclass hash and filters. */
export interface EslSubscription {
  readonly format: EslEventFormat;
  /** Whether `event` enabled any event (LFLAG_EVENTS). */
  readonly listening: boolean;
  wants(event: EslEvent): boolean;
  /** `event [plain|json] <names…>`: the reply text. */
  subscribe(words: readonly string[]): string;
  /** `nixevent <names…>` */
  unsubscribe(words: readonly string[]): string;
  /** `noevents` */
  clear(): string;
  /** `filter …` (the words after `filter`). */
  filter(text: string): string;
}

const FORMATS = new Set(["plain", "json"]);

function filterMatches(filter: EventFilter, event: EslEvent): { readonly matched: boolean; readonly include: boolean } {
  const actual = eventHeader(event, filter.header);
  let value = filter.value;
  let include = true;
  for (; value.startsWith("+") || value.startsWith("-") || value.startsWith(" "); value = value.slice(1)) {
    if (value[0] !== " ") include = value[0] === "+";
  }
  if (actual === undefined || value === "") return { matched: false, include };
  if (filter.value.startsWith("/") && value.endsWith("/") && value.length > 1) {
    try {
      return { matched: new RegExp(value.slice(1, -1)).test(actual), include };
    } catch {
      return { matched: false, include };
    }
  }
  return { matched: actual.toLowerCase() === value.toLowerCase(), include };
}

export function createEslSubscription(): EslSubscription {
  let format: EslEventFormat = "plain";
  let listening = false;
  let all = false;
  const types = new Set<string>();
  const subclasses = new Set<string>();
  let allSubclasses = false;
  let filters: EventFilter[] = [];

  const passesFilters = (event: EslEvent) => {
    // As event_handler: with filters set, an event goes out only if an including filter matches and no excluding one does.
    let send = false;
    for (const filter of filters) {
      const { matched, include } = filterMatches(filter, event);
      if (!matched) continue;
      if (!include) return false;
      send = true;
    }
    return send;
  };

  return {
    get format() {
      return format;
    },
    get listening() {
      return listening;
    },
    wants(event) {
      if (!listening) return false;
      const name = eventHeader(event, "Event-Name") ?? "";
      let send = all;
      if (!send && types.has(name)) {
        const subclass = eventHeader(event, "Event-Subclass");
        send = name !== "CUSTOM" || subclass === undefined || allSubclasses || subclasses.has(subclass);
      }
      return send && (filters.length === 0 || passesFilters(event));
    },
    subscribe(words) {
      let keys = 0;
      let custom = false;
      for (const [index, word] of words.entries()) {
        if (index === 0 && FORMATS.has(word.toLowerCase())) {
          format = word.toLowerCase() as EslEventFormat;
          continue;
        }
        if (custom) {
          subclasses.add(word);
          continue;
        }
        const type = toEventType(word);
        if (!type) continue;
        keys++;
        if (type === "ALL") {
          all = true;
          allSubclasses = true;
        } else {
          types.add(type);
        }
        if (type === "CUSTOM") custom = true;
      }
      if (keys === 0) return "-ERR no keywords supplied";
      listening = true;
      return `+OK event listener enabled ${format}`;
    },
    unsubscribe(words) {
      let keys = 0;
      let custom = false;
      for (const word of words) {
        if (custom) {
          subclasses.delete(word);
          continue;
        }
        const type = toEventType(word);
        if (!type) continue;
        keys++;
        if (type === "CUSTOM") custom = true;
        else if (type === "ALL") {
          all = false;
          types.clear();
        } else {
          // Nixing one type out of ALL keeps every other type, as FreeSWITCH expands ALL first.
          if (all) for (const name of EVENT_TYPES) if (name !== "ALL") types.add(name);
          all = false;
          types.delete(type);
        }
      }
      if (keys === 0) return "-ERR no keywords supplied";
      listening = true;
      return "+OK events nixed";
    },
    clear() {
      if (!listening) return "-ERR not listening for events";
      listening = false;
      all = false;
      allSubclasses = false;
      types.clear();
      subclasses.clear();
      return "+OK no longer listening for events";
    },
    filter(text) {
      const words = text.replace(/^ +/, "");
      const space = words.indexOf(" ");
      let header = space < 0 ? words : words.slice(0, space);
      let value = space < 0 ? undefined : words.slice(space + 1);
      if (header.toLowerCase() === "delete" && value !== undefined) {
        const next = value.indexOf(" ");
        header = next < 0 ? value : value.slice(0, next);
        const deleted = next < 0 ? undefined : value.slice(next + 1);
        if (header.toLowerCase() === "all") filters = [];
        else filters = filters.filter((f) => f.header !== header || (deleted !== undefined && f.value !== deleted));
        return `+OK filter deleted. [${header}][${deleted ?? ""}]`;
      }
      if (value === undefined) return "-ERR invalid syntax";
      if (header.toLowerCase() === "add") {
        const next = value.indexOf(" ");
        if (next < 0) return "-ERR invalid syntax";
        header = value.slice(0, next);
        value = value.slice(next + 1);
      }
      filters.push({ header, value });
      return `+OK filter added. [${header}]=[${value}]`;
    },
  };
}
