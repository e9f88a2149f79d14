// Numbers written for people, as log lines and messages show them: 18.2MiB, 124MiB.

/** Bytes in binary units with one decimal (whole bytes under 1 KiB): `18.2MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)}${units[u]}`;
}
