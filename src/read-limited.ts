// Reads a response body into a string, but never more than a budget: a model server (or
// anything it is confused with) that answers without end cannot grow the heap past it.
// Past the budget the body is destroyed, so its connection is not read any further.

export class BodyTooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`the answer is larger than ${limitBytes} bytes`);
  }
}

interface Body extends AsyncIterable<Uint8Array> {
  destroy(error?: Error): unknown;
}

/**
 * The body as UTF-8 text. `over`: 'fail' throws BodyTooLarge past `maxBytes`; 'truncate'
 * keeps the first `maxBytes` (for an error message, where the start says what went wrong).
 */
export async function readLimited(body: Body, maxBytes: number, over: 'fail' | 'truncate' = 'fail'): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size + chunk.length > maxBytes) {
      body.destroy();
      if (over === 'fail') throw new BodyTooLarge(maxBytes);
      chunks.push(chunk.subarray(0, maxBytes - size));
      size = maxBytes;
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  // A multi-byte character cut at the end of a truncated body decodes as U+FFFD: harmless.
  return Buffer.concat(chunks, size).toString('utf8');
}
