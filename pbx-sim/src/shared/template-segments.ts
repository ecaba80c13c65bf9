/** A templated value: literal text and placeholders (whatever a simulator fills in per played call). */
export type Segments<P> = ReadonlyArray<string | P>;

const isWordChar = (char: string | undefined) => char !== undefined && /[A-Za-z0-9]/.test(char);

/** Replaces the string parts of `segments` that `pattern` matches with what `replace` makes of the match. */
export function splitSegments<P>(
  segments: Segments<P>,
  pattern: RegExp,
  replace: (match: RegExpExecArray) => P | undefined,
): Array<string | P> {
  const out: Array<string | P> = [];
  for (const segment of segments) {
    if (typeof segment !== "string") {
      out.push(segment);
      continue;
    }
    let last = 0;
    for (const match of segment.matchAll(pattern)) {
      const placeholder = replace(match);
      if (placeholder === undefined) continue;
      if (match.index > last) out.push(segment.slice(last, match.index));
      out.push(placeholder);
      last = match.index + match[0].length;
    }
    if (last < segment.length) out.push(segment.slice(last));
  }
  return out;
}

/** Replaces whole-token occurrences of `literal` (never part of a longer word or number). */
export function splitLiteral<P>(
  segments: Segments<P>,
  literal: string,
  replace: (before: string) => P,
): Array<string | P> {
  const out: Array<string | P> = [];
  for (const segment of segments) {
    if (typeof segment !== "string") {
      out.push(segment);
      continue;
    }
    let last = 0;
    let from = 0;
    for (;;) {
      const index = segment.indexOf(literal, from);
      if (index < 0) break;
      from = index + 1;
      const end = index + literal.length;
      if (isWordChar(literal[0]) && isWordChar(segment[index - 1])) continue;
      if (isWordChar(literal[literal.length - 1]) && isWordChar(segment[end])) continue;
      if (index > last) out.push(segment.slice(last, index));
      out.push(replace(segment.slice(0, index)));
      last = end;
      from = end;
    }
    if (last < segment.length) out.push(segment.slice(last));
  }
  return out;
}
