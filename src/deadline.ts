// A hard deadline for one outgoing call (webhook, SMTP): a plain timer aborts a controller
// this closure holds until the call ends, and the call is abandoned at the deadline even
// if it ignores the signal. Not AbortSignal.any() over an inline AbortSignal.timeout():
// on Node 20 the timeout signal can be garbage-collected before it fires
// (nodejs/node#57736), and the call then waits as long as the other side likes.

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

export async function withDeadline<T>(
  ms: number,
  parent: AbortSignal | undefined,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineExceeded(ms)), ms);
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const abandoned = new Promise<never>((_resolve, reject) => {
    if (controller.signal.aborted) reject(controller.signal.reason);
    else controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  try {
    return await Promise.race([run(controller.signal), abandoned]);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  }
}
