// OCR confidence from the upstream's logprobs: the mean probability of the answer's
// tokens. No logprobs, no confidence: never a made-up number. A logprob is a log of a
// probability, so at most 0: half-precision arithmetic can leave a hair above it (read as
// 0, probability 1); anything else (710, 0.5, NaN, ±Infinity) is not a probability and is
// left out, so the confidence stays within 0–1 whatever the model server sends.

interface ChoiceShape {
  message?: { content?: unknown } | undefined;
  logprobs?: { content?: Array<{ logprob?: unknown }> | null | undefined } | null | undefined;
}

/**
 * How far above 0 a logprob may be and still count, as 0: bfloat16 resolves about 0.008 near
 * 1.0, so a log-softmax computed in it can come out a little positive for a sure token.
 */
export const LOGPROB_ROUNDING = 0.01;

/** A token's probability from its logprob, or null when the logprob is not one. */
export function tokenProbability(logprob: unknown): number | null {
  if (typeof logprob !== 'number' || !Number.isFinite(logprob) || logprob > LOGPROB_ROUNDING) return null;
  return Math.exp(Math.min(logprob, 0));
}

export function meanTokenProbability(choice: ChoiceShape | undefined): number | null {
  const tokens = choice?.logprobs?.content;
  if (!Array.isArray(tokens) || tokens.length === 0) return null;
  let sum = 0;
  let n = 0;
  for (const t of tokens) {
    const p = tokenProbability(t?.logprob);
    if (p === null) continue;
    sum += p;
    n++;
  }
  return n === 0 ? null : sum / n;
}
