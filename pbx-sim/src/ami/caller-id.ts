/** A caller ID split as Asterisk's ast_callerid_parse does; a missing part is undefined. */
export interface CallerId {
  readonly name: string | undefined;
  readonly number: string | undefined;
}

const stripQuoted = (text: string) => text.trim().replace(/^"(.*)"$/s, "$1");

// ast_shrink_phone_number: drops the usual dial-string punctuation.
const shrinkPhoneNumber = (text: string) => text.replace(/[()\-. ]/g, "");

const isPhoneNumber = (text: string) => /^[0-9*#+]+$/.test(text);

/**
 * Parses `"Alice Smith" <1001>`, `Alice <1001>`, a bare number or a bare name, as an Originate's
 * `CallerID` header is read (main/callerid.c ast_callerid_parse, then ast_shrink_phone_number).
 */
export function parseCallerId(text: string): CallerId {
  const open = text.lastIndexOf("<");
  if (open >= 0) {
    const close = text.indexOf(">", open);
    const number = shrinkPhoneNumber(text.slice(open + 1, close < 0 ? undefined : close));
    const name = stripQuoted(text.slice(0, open));
    return { name: name === "" ? undefined : name, number: number === "" ? undefined : number };
  }
  const shrunk = shrinkPhoneNumber(text);
  if (isPhoneNumber(shrunk)) return { name: undefined, number: shrunk };
  const name = stripQuoted(text);
  return { name: name === "" ? undefined : name, number: undefined };
}
