/**
 * One AMI message (an event or an action response): its `Key: Value` lines in the order
 * they were sent, keys kept as sent. Stored as one flat array [key0, value0, key1, …] so
 * that parsing allocates as little as possible; lookups are case-insensitive (Asterisk
 * spells `Linkedid` on Newchannel but `LinkedID` on CEL) and try an exact match first,
 * lower-casing the keys only once and only when that fails.
 */
export class AmiMessage {
  /** [key, value, key, value, …] as received. */
  readonly fields: string[];
  #lowerKeys: string[] | undefined;

  constructor(fields: string[]) {
    this.fields = fields;
  }

  /** Builds a message from pairs; convenient in tests and for building actions. */
  static fromPairs(pairs: ReadonlyArray<readonly [string, string]>): AmiMessage {
    const fields: string[] = [];
    for (const [key, value] of pairs) fields.push(key, value);
    return new AmiMessage(fields);
  }

  /** `Event` value, or undefined for a response. */
  get event(): string | undefined {
    return this.get("Event");
  }

  /** `Response` value, or undefined for an event. */
  get response(): string | undefined {
    return this.get("Response");
  }

  /** The first value of `key` (case-insensitive), or undefined. */
  get(key: string): string | undefined {
    const fields = this.fields;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === key) return fields[i + 1];
    }
    const index = this.#indexOfIgnoringCase(key, 0);
    return index < 0 ? undefined : fields[index + 1];
  }

  /** Every value of `key` (case-insensitive), in order: `Variable`, `ChanVariable`, `Output`. */
  getAll(key: string): string[] {
    const values: string[] = [];
    const fields = this.fields;
    const lower = key.toLowerCase();
    const lowerKeys = this.#lowered();
    for (let i = 0; i < fields.length; i += 2) {
      if (lowerKeys[i >> 1] === lower) values.push(fields[i + 1] as string);
    }
    return values;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Number of `Key: Value` lines. */
  get size(): number {
    return this.fields.length >> 1;
  }

  *entries(): IterableIterator<[string, string]> {
    const fields = this.fields;
    for (let i = 0; i < fields.length; i += 2) yield [fields[i] as string, fields[i + 1] as string];
  }

  #indexOfIgnoringCase(key: string, from: number): number {
    const lower = key.toLowerCase();
    const lowerKeys = this.#lowered();
    for (let i = from >> 1; i < lowerKeys.length; i++) {
      if (lowerKeys[i] === lower) return i << 1;
    }
    return -1;
  }

  #lowered(): string[] {
    if (this.#lowerKeys === undefined) {
      const fields = this.fields;
      const keys = new Array<string>(fields.length >> 1);
      for (let i = 0; i < fields.length; i += 2) keys[i >> 1] = (fields[i] as string).toLowerCase();
      this.#lowerKeys = keys;
    }
    return this.#lowerKeys;
  }
}
