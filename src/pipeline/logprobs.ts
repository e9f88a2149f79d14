// OCR confidence from the upstream's logprobs: the mean probability of the answer's
// tokens. No logprobs, no confidence: never a made-up number.

interface ChoiceShape {
  message?: { content?: unknown };
  logprobs?: { content?: Array<{ logprob?: unknown }> | null } | null;
}

export function meanTokenProbability(choice: ChoiceShape | undefined): number | null {
  const tokens = choice?.logprobs?.content;
  if (!Array.isArray(tokens) || tokens.length === 0) return null;
  let sum = 0;
  let n = 0;
  for (const t of tokens) {
    if (typeof t?.logprob !== 'number' || !Number.isFinite(t.logprob)) continue;
    sum += Math.exp(t.logprob);
    n++;
  }
  return n === 0 ? null : sum / n;
}
