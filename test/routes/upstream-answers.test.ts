// A model server's answer is checked before OCR, GUI and video read it: an answer of the
// wrong shape is the model server's fault (502 UPSTREAM_BAD_ANSWER) named to the field,
// never a cast that turns into a wrong number or a 500; what engines add beside the fields
// we read (vLLM's prompt_logprobs, SGLang's meta_info, llama.cpp's timings) is welcome.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { blackboardPhoto, dataUrl } from '../../src/demo/images.js';
import { postJson, startApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A model server that answers every chat completion with `answer`. */
async function modelServer(answer: unknown): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

async function ocr(answer: unknown) {
  const app = await startApp({ UPSTREAM_URL: await modelServer(answer) }, { probes: false });
  cleanups.push(() => app.close());
  return postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(await blackboardPhoto(320, 240)) });
}

describe("a model server's answer, checked", () => {
  it('is a 502 naming the field when it is not a chat completion', async () => {
    for (const [answer, says] of [
      [{ choices: [{ message: { content: 42 } }] }, 'choices[0].message.content: expected string, got number'],
      [{ choices: [] }, 'choices: no choices'],
      [{ object: 'error', message: 'oops' }, 'choices: required'],
      [{ choices: [{ message: { content: 'ok' } }], usage: { prompt_tokens: 'many' } }, 'usage.prompt_tokens'],
    ] as const) {
      const res = await ocr(answer);
      expect(res.status, JSON.stringify(answer)).toBe(502);
      expect(res.json.error.code).toBe('UPSTREAM_BAD_ANSWER');
      expect(res.json.error.message).toContain("The model server's answer is not a chat completion: ");
      expect(res.json.error.message).toContain(says);
    }
  });

  it("reads an engine's answer with fields of its own, and leaves out logprobs that are not probabilities", async () => {
    const res = await ocr({
      id: 'cmpl-1',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'x = 2', reasoning_content: null },
          logprobs: {
            content: [
              { token: 'x', logprob: -0.1 },
              { token: ' =', logprob: 'NaN' },
            ],
          },
          finish_reason: 'stop',
          stop_reason: null,
        },
      ],
      usage: { prompt_tokens: 88, completion_tokens: 3, prompt_tokens_details: null },
      prompt_logprobs: null,
      meta_info: { id: 'sglang' },
      timings: { predicted_ms: 12 },
    });
    expect(res.status).toBe(200);
    expect(res.json.text).toBe('x = 2');
    expect(res.json.confidence).toBeCloseTo(Math.exp(-0.1), 9);
  });
});
