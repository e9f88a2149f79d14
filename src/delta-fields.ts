// The fields of a streamed chat chunk's `delta` that carry generated text: the answer and a
// thinking model's reasoning. vLLM streams the reasoning as `reasoning` (since 2026, when it
// removed `reasoning_content`); other engines still write `reasoning_content`. One list for
// the relay (time to first token counts any of them) and the Chat page (it shows the
// reasoning folded above the answer): the next rename is made here once.

/** Where a thinking model's reasoning comes, newest name first. */
export const REASONING_FIELDS = ['reasoning', 'reasoning_content'] as const;

/** The delta's fields whose non-empty text is generated content (the first token's). */
export const TEXT_FIELDS = ['content', ...REASONING_FIELDS] as const;
