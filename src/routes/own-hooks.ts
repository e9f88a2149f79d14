// Fastify builds a GET route's automatic HEAD route from its options, hooks and all: a hook
// an onRoute handler adds arrives on the HEAD route inherited, is added again, and would run
// twice (a HEAD request counted twice). Each installer keeps one OwnHooks, which remembers
// the hooks it hands out and drops an inherited one before it puts the new one on.
export class OwnHooks {
  private readonly ours = new WeakSet<object>();

  /** A route's hooks (a list, one, or none) without the ones handed out here, then `hook`. */
  put<H extends object>(hooks: H | H[] | undefined, hook: H): H[] {
    const list = hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
    this.ours.add(hook);
    return [...list.filter((h) => !this.ours.has(h)), hook];
  }
}
