// The Monitor's WebSocket fan-out. Each message is serialised once and the same string
// goes to every subscribed client; a client that cannot keep up (its send buffer passes
// a bound) is dropped instead of being buffered without limit. How many may connect at
// all is its `admission` budget (security/websocket-budget.ts).
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { type AlertAck, alertAckSchema, type Notification, notificationSchema } from './alerts/notifier.js';
import { logLineSchema, type LogLine } from './log/log-line.js';
import { snapshotSchema, type Snapshot } from './metrics/snapshot.js';
import { WebSocketBudget } from './security/websocket-budget.js';

export const TOPICS = ['snapshot', 'log', 'alert'] as const;
export type Topic = (typeof TOPICS)[number];

/** What each topic carries: the type `broadcast` takes and the browser reads (public/js/types.js). */
export interface TopicData {
  snapshot: Snapshot;
  log: LogLine;
  alert: Notification | (AlertAck & { ack: true });
}

/** The topics as the API description shows them: `"snapshot"|"log"|"alert"`. */
export const TOPIC_LIST = TOPICS.map((t) => `"${t}"`).join('|');

/** What the server sends on the stream: a topic's news, or an answer to the client's message. */
export const serverMessage = z.union([
  z.object({ type: z.literal('snapshot'), data: snapshotSchema }),
  z.object({ type: z.literal('log'), data: logLineSchema }),
  z.object({
    type: z.literal('alert'),
    data: z.union([notificationSchema, alertAckSchema.extend({ ack: z.literal(true) })]),
  }),
  z.object({ type: z.literal('subscribed'), topics: z.array(z.enum(TOPICS)) }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('error'), error: z.object({ code: z.string(), message: z.string() }) }),
]);

/** What a client may send on the stream (also the API description's). */
export const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), topics: z.array(z.enum(TOPICS)).min(1) }),
  z.object({ type: z.literal('ping') }),
]);

interface Client {
  socket: WebSocket;
  topics: Set<Topic>;
  alive: boolean;
}

export interface StreamHubOptions {
  /** Bytes a client may have queued before it is dropped. */
  maxBufferedBytes?: number;
  /** MAX_WEBSOCKETS: sockets open at once. */
  maxSockets?: number;
  /** MAX_WEBSOCKETS_PER_CLIENT: sockets one client address may hold. */
  maxSocketsPerClient?: number;
}

export class StreamHub {
  private readonly clients = new Set<Client>();
  private readonly maxBuffered: number;
  /** Clients dropped for being too slow, since start. */
  droppedSlowClients = 0;
  /** Who may open a socket: the stream route asks before the upgrade. */
  readonly admission: WebSocketBudget;

  constructor(opts: StreamHubOptions = {}) {
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
    this.admission = new WebSocketBudget(opts.maxSockets ?? 128, opts.maxSocketsPerClient ?? 16);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Clients pinged at the last heartbeat that have not answered yet. */
  get awaitingPong(): number {
    let n = 0;
    for (const c of this.clients) if (!c.alive) n++;
    return n;
  }

  add(socket: WebSocket, greeting?: { type: 'snapshot'; data: Snapshot }): void {
    const client: Client = { socket, topics: new Set(TOPICS), alive: true };
    this.clients.add(client);
    socket.on('pong', () => (client.alive = true));
    socket.on('close', () => this.clients.delete(client));
    socket.on('error', () => socket.terminate());
    socket.on('message', (raw) => this.onMessage(client, raw.toString()));
    if (greeting) this.sendTo(client, JSON.stringify({ type: greeting.type, data: greeting.data }));
  }

  broadcast<T extends Topic>(type: T, data: TopicData[T]): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify({ type, data });
    for (const c of this.clients) if (c.topics.has(type)) this.sendTo(c, text);
  }

  /** Called by the scheduler: ping everyone, drop those that missed the last ping. */
  heartbeat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        c.socket.terminate();
        this.clients.delete(c);
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }

  closeAll(code = 1001, reason = 'server shutting down'): void {
    for (const c of this.clients) c.socket.close(code, reason);
    this.clients.clear();
  }

  private sendTo(c: Client, text: string): void {
    if (c.socket.readyState !== c.socket.OPEN) return;
    if (c.socket.bufferedAmount + text.length > this.maxBuffered) {
      this.droppedSlowClients++;
      this.clients.delete(c);
      c.socket.terminate();
      return;
    }
    c.socket.send(text);
  }

  private onMessage(c: Client, raw: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.sendTo(
        c,
        JSON.stringify({ type: 'error', error: { code: 'BAD_REQUEST', message: 'messages must be JSON' } }),
      );
      return;
    }
    const r = clientMessage.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      const field = issue?.path.join('.') || '(message)';
      const error = {
        code: 'VALIDATION_FAILED',
        message: `${field}: ${issue?.message ?? 'not a message this takes'}`,
        field,
      };
      this.sendTo(c, JSON.stringify({ type: 'error', error }));
      return;
    }
    if (r.data.type === 'ping') {
      this.sendTo(c, JSON.stringify({ type: 'pong' }));
      return;
    }
    c.topics = new Set(r.data.topics);
    this.sendTo(c, JSON.stringify({ type: 'subscribed', topics: r.data.topics }));
  }
}
