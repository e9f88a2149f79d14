// Who a GPU process is: its command line and user, from /proc (Linux only). A process
// in another PID namespace (the usual case inside a container) is simply not described.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Who a process is, where /proc shows it (absent keys: not visible from here). */
export const processDetailsSchema = z.object({
  command: z.string().optional().describe('Its command line, cut at 200 characters'),
  user: z.string().optional().describe('Its user name, or "uid N"'),
});
export type ProcessDetails = z.infer<typeof processDetailsSchema>;

const MAX_COMMAND = 200;
let users: Map<number, string> | undefined;

/** uid → name from /etc/passwd, read once. */
export function parsePasswd(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid)) m.set(Number(uid), name);
  }
  return m;
}

export function readProcessInfo(pid: number, procRoot = '/proc'): ProcessDetails {
  const out: ProcessDetails = {};
  try {
    const cmd = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    if (cmd) out.command = cmd.length > MAX_COMMAND ? `${cmd.slice(0, MAX_COMMAND)}…` : cmd;
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`${procRoot}/${pid}/status`, 'utf8'))?.[1];
    if (uid !== undefined) {
      if (!users) {
        try {
          users = parsePasswd(readFileSync('/etc/passwd', 'utf8'));
        } catch {
          users = new Map();
        }
      }
      out.user = users.get(Number(uid)) ?? `uid ${uid}`;
    }
  } catch {
    // not visible from here
  }
  return out;
}
