/** NUL, or half of a surrogate pair: Postgres cannot store either in text or jsonb, nor compare them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The sentence for a value that holds such a character. */
export const UNSTORABLE_MESSAGE = "must not contain NUL or unpaired surrogate characters";

/** Whether Postgres can take this text at all: as a value to store or to search by. */
export function storable(s: string): boolean {
  return !UNSTORABLE.test(s);
}
