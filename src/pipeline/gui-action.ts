// Qwen3-VL's computer-use answers → a validated GUI action. The model calls a
// `computer_use` tool inside <tool_call>…</tool_call> with coordinates on a 0–1000 grid
// over the screenshot; we map them to the screenshot's pixels and check they fall on it.

export const GUI_ACTIONS = [
  'click',
  'double_click',
  'right_click',
  'middle_click',
  'move',
  'drag',
  'type',
  'key',
  'scroll',
  'wait',
  'done',
] as const;
export type GuiActionType = (typeof GUI_ACTIONS)[number];

export interface GuiAction {
  type: GuiActionType;
  x?: number;
  y?: number;
  /** Drag end point. */
  toX?: number;
  toY?: number;
  text?: string;
  keys?: string[];
  /** Scroll amount (positive down). */
  pixels?: number;
  target?: string;
}

export type GuiParse =
  | { ok: true; action: GuiAction }
  | { ok: false; reason: 'invalid_output' | 'unknown_action' | 'out_of_bounds' | 'missing_argument'; detail: string };

/** Qwen's names → ours. A Map: a name the model makes up ("toString") is not found on a prototype. */
const ACTION_NAMES: ReadonlyMap<string, GuiActionType> = new Map(
  Object.entries({
    left_click: 'click',
    click: 'click',
    double_click: 'double_click',
    right_click: 'right_click',
    middle_click: 'middle_click',
    mouse_move: 'move',
    left_click_drag: 'drag',
    drag: 'drag',
    type: 'type',
    key: 'key',
    scroll: 'scroll',
    wait: 'wait',
    terminate: 'done',
    answer: 'done',
  } satisfies Record<string, GuiActionType>),
);
const POINTER: ReadonlySet<GuiActionType> = new Set([
  'click',
  'double_click',
  'right_click',
  'middle_click',
  'move',
  'drag',
]);

export const GUI_SYSTEM_PROMPT = `You are a GUI agent. You see a screenshot and decide the next single action.
Call the tool once, as:
<tool_call>
{"name": "computer_use", "arguments": {"action": <action>, ...}}
</tool_call>
Actions: left_click, double_click, right_click, middle_click, mouse_move (with "coordinate": [x, y]),
left_click_drag (with "coordinate" and "end_coordinate"), type (with "text"), key (with "keys": [...]),
scroll (with "coordinate" and "pixels"), wait, terminate (with "status").
Coordinates are on a 0–1000 grid over the screenshot: [0, 0] is the top-left corner, [1000, 1000] the bottom-right.
You may add "target": a short name of the element you act on.`;

/**
 * The most of an answer a step reads. Answers are capped by max_tokens (512: a few KiB), so
 * anything longer is not a computer_use call; the cap bounds the work a model (or a prompt
 * injected into a screenshot) can make one step cost.
 */
export const MAX_ANSWER_CHARS = 64 * 1024;
const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

/**
 * The JSON text of the call: inside the first <tool_call>…</tool_call>, else from the first
 * "{" to the last "}". Plain indexOf scans, each character looked at a bounded number of
 * times: a regular expression here backtracked for minutes on an unclosed tag.
 */
export function toolCallText(output: string): string | undefined {
  const text = output.length > MAX_ANSWER_CHARS ? output.slice(0, MAX_ANSWER_CHARS) : output;
  const open = text.indexOf(OPEN);
  if (open >= 0) {
    const close = text.indexOf(CLOSE, open + OPEN.length);
    if (close >= 0) return text.slice(open + OPEN.length, close).trim();
  }
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  return first >= 0 && last > first ? text.slice(first, last + 1) : undefined;
}

function extractCall(output: string): unknown {
  const candidate = toolCallText(output);
  if (!candidate) return undefined;
  try {
    return JSON.parse(candidate);
  } catch {
    return undefined;
  }
}

function point(v: unknown): [number, number] | undefined {
  return Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number' && Number.isFinite(n))
    ? [v[0], v[1]]
    : undefined;
}

/** Parses and validates one model answer against a screenshot of width × height pixels. */
export function parseGuiAction(output: string, width: number, height: number): GuiParse {
  const call = extractCall(output) as { name?: unknown; arguments?: Record<string, unknown> } | undefined;
  const args = call && typeof call === 'object' ? (call.arguments ?? (call as Record<string, unknown>)) : undefined;
  if (!args || typeof args !== 'object')
    return {
      ok: false,
      reason: 'invalid_output',
      detail:
        output.length > MAX_ANSWER_CHARS
          ? `no tool call in the first ${MAX_ANSWER_CHARS} characters of a ${output.length}-character answer`
          : 'no tool call in the answer',
    };
  const name = typeof args.action === 'string' ? args.action : undefined;
  const type = name === undefined ? undefined : ACTION_NAMES.get(name);
  if (!type) return { ok: false, reason: 'unknown_action', detail: `unknown action ${JSON.stringify(name ?? null)}` };
  const action: GuiAction = { type };
  if (typeof args.target === 'string' && args.target) action.target = args.target.slice(0, 200);
  const toPixels = (p: [number, number]) =>
    [Math.round((p[0] / 1000) * width), Math.round((p[1] / 1000) * height)] as const;
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x <= width && y <= height;

  if (POINTER.has(type) || type === 'scroll') {
    const p = point(args.coordinate);
    if (!p) {
      if (type !== 'scroll')
        return { ok: false, reason: 'missing_argument', detail: `${name} needs "coordinate": [x, y]` };
    } else {
      if (p[0] < 0 || p[0] > 1000 || p[1] < 0 || p[1] > 1000)
        return {
          ok: false,
          reason: 'out_of_bounds',
          detail: `coordinate ${JSON.stringify(p)} is outside the 0–1000 grid`,
        };
      const [x, y] = toPixels(p);
      if (!inside(x, y))
        return {
          ok: false,
          reason: 'out_of_bounds',
          detail: `(${x}, ${y}) is outside the ${width}×${height} screenshot`,
        };
      action.x = x;
      action.y = y;
    }
  }
  if (type === 'drag') {
    const end = point(args.end_coordinate);
    if (!end) return { ok: false, reason: 'missing_argument', detail: 'left_click_drag needs "end_coordinate"' };
    const [x, y] = toPixels(end);
    if (!inside(x, y))
      return { ok: false, reason: 'out_of_bounds', detail: `drag end (${x}, ${y}) is outside the screenshot` };
    action.toX = x;
    action.toY = y;
  }
  if (type === 'type') {
    if (typeof args.text !== 'string') return { ok: false, reason: 'missing_argument', detail: 'type needs "text"' };
    action.text = args.text;
  }
  if (type === 'key') {
    const keys = Array.isArray(args.keys)
      ? args.keys.filter((k): k is string => typeof k === 'string')
      : typeof args.key === 'string'
        ? [args.key]
        : [];
    if (keys.length === 0) return { ok: false, reason: 'missing_argument', detail: 'key needs "keys"' };
    action.keys = keys;
  }
  if (type === 'scroll') action.pixels = typeof args.pixels === 'number' ? args.pixels : 0;
  if (type === 'done' && typeof args.status === 'string') action.text = args.status;
  return { ok: true, action };
}
