// What a model server's error means, in our codes. Out of GPU memory and context too long
// are named, so each is counted apart and blamed on the right party: memory is the server's
// (503, retry later), a too-long request the client's (400). The patterns are the messages
// vLLM, SGLang, LMDeploy, llama.cpp and Ollama send (PyTorch's own for CUDA OOM).
import type { ErrorCode } from '../errors.js';

const OOM = [
  /CUDA out of memory/i,
  /OutOfMemoryError/i,
  /\bout of memory\b/i,
  /cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED/i,
  /No available memory for the cache blocks/i,
  /KV[ -]?cache (pool )?(is )?(full|exhausted)/i,
  /not enough (GPU |device |KV[ -]?cache )?memory/i,
  /insufficient (GPU |KV[ -]?cache )?memory/i,
];

const CONTEXT = [
  /maximum context length/i,
  /context length exceeded|context_length_exceeded/i,
  /longer than the model'?s context length/i,
  /exceeds? the (available |maximum )?context (size|length|window)/i,
  /exceed_context_size_error/i,
  /prompt is too long|input is too long/i,
  /exceeds? the maximum allowed length/i,
];

export interface UpstreamFailure {
  code: Extract<ErrorCode, 'UPSTREAM_OOM' | 'CONTEXT_TOO_LONG' | 'UPSTREAM_ERROR'>;
  statusCode: number;
}

/** The code and the status the client gets for a model server's error answer. */
export function classifyUpstreamError(status: number, message: string): UpstreamFailure {
  if (OOM.some((p) => p.test(message))) return { code: 'UPSTREAM_OOM', statusCode: 503 };
  if (CONTEXT.some((p) => p.test(message)))
    return { code: 'CONTEXT_TOO_LONG', statusCode: status >= 400 && status < 500 ? status : 400 };
  return { code: 'UPSTREAM_ERROR', statusCode: status };
}
