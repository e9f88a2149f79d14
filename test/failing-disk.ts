// The real file system, except that writes fail like a full or a read-only disk when
// told to: handed to the app as `stateIo`, it makes every save of rules, silences,
// channels and sessions fail the way a real disk does (ENOSPC half-way, EROFS at open).
import * as fs from 'node:fs';
import type { FileIo } from '../src/json-file.js';

export function failingDisk() {
  const state: { mode: 'ok' | 'full' | 'readonly' } = { mode: 'ok' };
  const fail = (code: string, what: string) => Object.assign(new Error(`${code}: ${what}`), { code });
  const io: FileIo = {
    ...fs,
    openSync: ((...args: Parameters<typeof fs.openSync>) => {
      if (state.mode === 'readonly') throw fail('EROFS', 'read-only file system, open');
      return fs.openSync(...args);
    }) as typeof fs.openSync,
    writeSync: ((...args: Parameters<typeof fs.writeSync>) => {
      // Half a write lands, then the disk is full: the temp file exists and must go.
      if (state.mode === 'full') throw fail('ENOSPC', 'no space left on device, write');
      return (fs.writeSync as (...a: unknown[]) => number)(...args);
    }) as typeof fs.writeSync,
  };
  return { io, state };
}
