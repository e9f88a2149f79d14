// For a value the code before it has already made sure of (a type looked up after the
// schema accepted it), where the type system cannot follow: a missing one is our bug, so it
// throws. Never for what a client sent: a missing field there is its 4xx.

/** `v`, or an Error naming `what` when it is missing. */
export function defined<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) throw new Error(`${what} missing`);
  return v;
}
