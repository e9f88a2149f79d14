// The alert engine's files under DATA_DIR: rules, silences, channels and history, each an
// atomic JSON file with a schema version (json-file.ts). Reading them all at start-up
// reports a damaged file (set aside, last good copy used) instead of failing.
import { join } from 'node:path';
import { z } from 'zod';
import { channelsFileSchema, CHANNELS_FILE_VERSION, upgradeChannelsFile } from './channel-list.js';
import { historyFileSchema } from './history.js';
import { JsonFile, type FileIo } from '../json-file.js';
import { storedRuleSchema } from './rule-schema.js';
import { storedSilenceSchema } from './silence.js';

const rulesFileSchema = z.array(storedRuleSchema);
const silencesFileSchema = z.array(storedSilenceSchema);

export interface LoadedAlertState {
  rules: z.infer<typeof rulesFileSchema>;
  silences: z.infer<typeof silencesFileSchema>;
  channels: z.infer<typeof channelsFileSchema>;
  history: z.infer<typeof historyFileSchema>;
  /** Which file could not be read, and what was done. */
  problems: string[];
}

export class AlertStateFiles {
  readonly rules: JsonFile<typeof rulesFileSchema>;
  readonly silences: JsonFile<typeof silencesFileSchema>;
  readonly channels: JsonFile<typeof channelsFileSchema>;
  readonly history: JsonFile<typeof historyFileSchema>;

  constructor(dataDir: string, io?: FileIo) {
    const opts = io ? { io } : {};
    this.rules = new JsonFile(join(dataDir, 'alert-rules.json'), rulesFileSchema, () => [], opts);
    this.silences = new JsonFile(join(dataDir, 'alert-silences.json'), silencesFileSchema, () => [], opts);
    // Version 1 held { email, webhook }; version 2 a list of named channels.
    this.channels = new JsonFile(join(dataDir, 'alert-channels.json'), channelsFileSchema, () => ({ channels: [] }), {
      ...opts,
      version: CHANNELS_FILE_VERSION,
      upgrade: upgradeChannelsFile,
    });
    this.history = new JsonFile(join(dataDir, 'alert-history.json'), historyFileSchema, () => [], opts);
  }

  /** Everything, as read; `problems` says which file could not be read and what was done. */
  loadAll(now: number): LoadedAlertState {
    const rules = this.rules.load(now);
    const channels = this.channels.load(now);
    const silences = this.silences.load(now);
    const history = this.history.load(now);
    const problems = [rules, channels, silences, history].flatMap((r) => (r.problem ? [r.problem] : []));
    return { rules: rules.value, channels: channels.value, silences: silences.value, history: history.value, problems };
  }
}
