import { describe, expect, it } from 'vitest';
import { MAX_ANSWER_CHARS, parseGuiAction } from '../../src/pipeline/gui-action.js';

const call = (args: object) =>
  `I will click it.\n<tool_call>\n${JSON.stringify({ name: 'computer_use', arguments: args })}\n</tool_call>`;

describe('parseGuiAction (Qwen3-VL computer_use, 0–1000 grid)', () => {
  it('maps a click to screenshot pixels, keeping the target', () => {
    expect(
      parseGuiAction(call({ action: 'left_click', coordinate: [500, 250], target: '登录按钮' }), 1920, 1080),
    ).toEqual({ ok: true, action: { type: 'click', x: 960, y: 270, target: '登录按钮' } });
  });
  it('reads type, key, drag, scroll and terminate', () => {
    expect(parseGuiAction(call({ action: 'type', text: 'hello' }), 100, 100)).toEqual({
      ok: true,
      action: { type: 'type', text: 'hello' },
    });
    expect(parseGuiAction(call({ action: 'key', keys: ['ctrl', 'c'] }), 100, 100)).toEqual({
      ok: true,
      action: { type: 'key', keys: ['ctrl', 'c'] },
    });
    expect(
      parseGuiAction(call({ action: 'left_click_drag', coordinate: [0, 0], end_coordinate: [1000, 1000] }), 200, 100),
    ).toEqual({ ok: true, action: { type: 'drag', x: 0, y: 0, toX: 200, toY: 100 } });
    expect(parseGuiAction(call({ action: 'scroll', coordinate: [500, 500], pixels: -300 }), 100, 100)).toEqual({
      ok: true,
      action: { type: 'scroll', x: 50, y: 50, pixels: -300 },
    });
    expect(parseGuiAction(call({ action: 'terminate', status: 'success' }), 100, 100)).toEqual({
      ok: true,
      action: { type: 'done', text: 'success' },
    });
  });
  it('names what is wrong with an answer', () => {
    expect(parseGuiAction('Click the blue button.', 100, 100)).toMatchObject({ ok: false, reason: 'invalid_output' });
    expect(parseGuiAction('<tool_call>{not json}</tool_call>', 100, 100)).toMatchObject({
      ok: false,
      reason: 'invalid_output',
    });
    expect(parseGuiAction(call({ action: 'teleport' }), 100, 100)).toMatchObject({
      ok: false,
      reason: 'unknown_action',
    });
    expect(parseGuiAction(call({ action: 'left_click' }), 100, 100)).toMatchObject({
      ok: false,
      reason: 'missing_argument',
    });
    expect(parseGuiAction(call({ action: 'left_click', coordinate: [1200, 10] }), 100, 100)).toMatchObject({
      ok: false,
      reason: 'out_of_bounds',
    });
    expect(parseGuiAction(call({ action: 'type' }), 100, 100)).toMatchObject({ ok: false, reason: 'missing_argument' });
  });
});

describe('parseGuiAction on hostile answers', () => {
  it('never takes a name of Object.prototype for an action', () => {
    for (const action of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
      expect(parseGuiAction(call({ action, coordinate: [1, 1] }), 100, 100)).toEqual({
        ok: false,
        reason: 'unknown_action',
        detail: `unknown action ${JSON.stringify(action)}`,
      });
    }
  });

  it('reads the first tool call, and falls back to the braces when its tag is not closed', () => {
    const click = JSON.stringify({ name: 'computer_use', arguments: { action: 'left_click', coordinate: [500, 500] } });
    const key = JSON.stringify({ name: 'computer_use', arguments: { action: 'key', keys: ['enter'] } });
    expect(parseGuiAction(`<tool_call>${click}</tool_call><tool_call>${key}</tool_call>`, 100, 100)).toMatchObject({
      ok: true,
      action: { type: 'click' },
    });
    expect(parseGuiAction(`<tool_call>\n  ${key}\n  `, 100, 100)).toMatchObject({ ok: true, action: { type: 'key' } });
    expect(parseGuiAction(`Sure: ${click} done.`, 100, 100)).toMatchObject({ ok: true, action: { type: 'click' } });
  });

  it('answers at once when the closing tag never comes (this took minutes with a regex)', () => {
    // 3 000 spaces took 5.7 s on the old pattern, 20 000 never finished.
    expect(parseGuiAction(`<tool_call>${' '.repeat(200_000)}x`, 100, 100)).toMatchObject({
      ok: false,
      reason: 'invalid_output',
    });
    expect(parseGuiAction('{'.repeat(200_000), 100, 100)).toMatchObject({ ok: false, reason: 'invalid_output' });
  });

  it(`reads at most the first ${MAX_ANSWER_CHARS} characters of an answer`, () => {
    const click = call({ action: 'left_click', coordinate: [500, 500] });
    expect(parseGuiAction(click + ' '.repeat(1_000_000), 100, 100)).toMatchObject({ ok: true });
    expect(parseGuiAction(' '.repeat(MAX_ANSWER_CHARS) + click, 100, 100)).toMatchObject({
      ok: false,
      reason: 'invalid_output',
      detail: `no tool call in the first ${MAX_ANSWER_CHARS} characters of a ${MAX_ANSWER_CHARS + click.length}-character answer`,
    });
  });
});
