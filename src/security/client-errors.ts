// Requests that never reach a route still get the API's one error shape: malformed HTTP
// (bad header characters, broken framing), headers too large, a request that did not
// arrive within HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS (Node's clientError), and URLs
// the router cannot decode (Fastify's frameworkErrors).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../errors.js';

interface ClientError extends Error {
  code?: string;
  reason?: string;
}

function answer(err: ClientError): { status: number; code: string; message: string } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      code: 'REQUEST_TIMEOUT',
      message:
        'The request did not arrive in time: its headers within HEADERS_TIMEOUT_MS, or all of it within REQUEST_TIMEOUT_MS',
    };
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      code: 'HEADERS_TOO_LARGE',
      message: 'The request headers are larger than the limit (16 KiB)',
    };
  }
  const why = (err.reason ?? err.message).replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return { status: 400, code: 'BAD_REQUEST', message: `Malformed HTTP request: ${why}` };
}

/** Fastify's clientErrorHandler: writes the answer on the raw socket and closes it. */
export function clientErrorHandler(err: ClientError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = answer(err);
  const body = JSON.stringify(errorBody(code, message, status));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Fastify's frameworkErrors: a URL or parameter the router cannot read. */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 400;
  void reply.code(status).send(errorBody('BAD_REQUEST', err.message, status));
}
