// A hook an onRoute handler adds, after those the route declared itself. Fastify 5 clones a
// GET route's options for its automatic HEAD route before the onRoute hooks run, so the HEAD
// route gets its own, never the GET route's (test/routes/monitor.test.ts counts the two apart).
export function withHook<H>(hooks: H | H[] | undefined, hook: H): H[] {
  return [...(hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]), hook];
}
