// How a GPU is named in the Monitor's series and in text, whichever source read it.

/** The GPU's label value in the Monitor's series (`gpu`): NVML's index, or `<host>/<index>` from a DCGM exporter. */
export const gpuLabel = (g: { index: number; host?: string | undefined }): string =>
  g.host === undefined ? String(g.index) : `${g.host}/${g.index}`;

/** A GPU named in text, from its label: `gpu0`, or `gpu-node-1/gpu0`. */
export function gpuTag(label: string): string {
  const slash = label.lastIndexOf('/');
  return slash < 0 ? `gpu${label}` : `${label.slice(0, slash)}/gpu${label.slice(slash + 1)}`;
}
