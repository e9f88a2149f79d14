// The body a relayed chat request goes on with: the client's own JSON text, not a
// re-serialisation of what was parsed from it. An image in base64 makes a body of megabytes,
// and JSON.stringify of a 5 MB body blocks the event loop for 13 ms on a small VM (every
// string scanned for characters to escape) to write what the client had already written.
// What the relay adds (a default model, include_usage) is spliced in as top-level keys.

/**
 * `text` (the JSON object `parsed` was read from) with `additions` as top-level keys. Spliced
 * before the closing brace when none of them is already there; otherwise (a key to change,
 * not add) the parsed object is written out again with them: a duplicate key would leave
 * which one counts to the model server's parser.
 */
export function withTopLevelKeys(
  text: string | null,
  parsed: Readonly<Record<string, unknown>>,
  additions: Readonly<Record<string, unknown>>,
): string {
  const keys = Object.keys(additions);
  if (text === null || keys.some((k) => Object.hasOwn(parsed, k)))
    return JSON.stringify(keys.length ? { ...parsed, ...additions } : parsed);
  if (keys.length === 0) return text;
  // A JSON object's text ends with its brace, then nothing but whitespace.
  const close = text.lastIndexOf('}');
  const empty = Object.keys(parsed).length === 0;
  let added = '';
  for (const k of keys) added += `${added || !empty ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(additions[k])}`;
  return `${text.slice(0, close)}${added}}`;
}
