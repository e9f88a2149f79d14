import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { BASE64_PIECE_BYTES, JsonSplicer } from '../../src/upstream/streamed-json.js';

const dir = mkdtempSync(join(tmpdir(), 'streamed-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a JSON body with its large strings streamed into place', () => {
  it('is exactly the JSON of the payload with the strings in place, and as long as it says', async () => {
    // File sizes around the 3-byte groups and the piece size, where base64 padding goes wrong first.
    for (const size of [0, 1, 2, 3, 4, BASE64_PIECE_BYTES - 1, BASE64_PIECE_BYTES, BASE64_PIECE_BYTES + 2]) {
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 131) & 0xff;
      const path = join(dir, `${size}.bin`);
      writeFileSync(path, bytes);
      const splicer = new JsonSplicer();
      const frame = `data:image/jpeg;base64,${Buffer.from('a frame').toString('base64')}`;
      const payload = (video: string, image: string) => ({
        model: 'qwen "3" vl', // quotes and non-ASCII in the skeleton are serialised as usual
        messages: [
          {
            role: 'user',
            content: [
              { type: 'video_url', video_url: { url: video } },
              { type: 'image_url', image_url: { url: image } },
              { type: 'text', text: '这段视频里发生了什么？' },
            ],
          },
        ],
      });
      const { body, length } = splicer.stream(
        payload(splicer.place({ prefix: 'data:video/mp4;base64,', path, bytes: size }), splicer.place({ text: frame })),
      );
      const sent = await text(body);
      expect(sent).toBe(JSON.stringify(payload(`data:video/mp4;base64,${bytes.toString('base64')}`, frame)));
      expect(Buffer.byteLength(sent), `size ${size}`).toBe(length);
    }
  });

  it('refuses to splice text that JSON would have to escape', async () => {
    const splicer = new JsonSplicer();
    const { body } = splicer.stream({ url: splicer.place({ text: 'data:x,"},"injected":{"' }) });
    await expect(text(body)).rejects.toThrow(/escape/);
  });
});
