// The alert engine's configuration: rules, silences and channels. All or nothing: each
// change is written first and applied only once it is on disk; a failed save throws
// NOT_SAVED (disk full, read-only, ...) and leaves everything as it was. What the rest of
// the engine must do about a change (forget a rule's states, put channels in force) it is
// told through the hooks, after the save.
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { channelsFromFile, channelsToFile, parseChannel, parseChannelList } from './channel-list.js';
import { CONSOLE, type Channel, type ChannelView } from './channel-type.js';
import type { ChannelSet } from './channels.js';
import { PRESETS } from './presets.js';
import { checkRuleChannels, presetChannels } from './rule-channels.js';
import { ruleInputSchema, type Rule, type RuleInput } from './rule-schema.js';
import { silenceInputSchema, type Silence } from './silence.js';
import type { AlertStateFiles, LoadedAlertState } from './state-files.js';

export interface AlertConfigOptions {
  files: AlertStateFiles;
  /** The channels in force (the delivery side owns their queues); set here after each save. */
  channels: ChannelSet;
  clock: () => number;
  /** Rules at most (ALERT_RULES_MAX). */
  maxRules?: number;
  /** A rule was changed or deleted: its alert states start afresh. */
  onRuleChanged: (ruleId: string) => void;
  /** The channels changed. */
  onChannelsChanged: () => void;
}

export class AlertConfig {
  private currentRules: readonly Rule[] = [];
  private currentSilences: readonly Silence[] = [];

  constructor(private readonly opts: AlertConfigOptions) {}

  get rules(): readonly Rule[] {
    return this.currentRules;
  }

  get silences(): readonly Silence[] {
    return this.currentSilences;
  }

  /** Puts what the files held in force (AlertStateFiles.loadAll read them). */
  restore(state: Pick<LoadedAlertState, 'rules' | 'silences' | 'channels'>): void {
    this.currentRules = state.rules;
    this.currentSilences = state.silences;
    this.opts.channels.apply(channelsFromFile(state.channels));
    this.opts.onChannelsChanged();
  }

  // ---- rules ----

  private saveRules(next: Rule[]): void {
    this.opts.files.rules.save(next);
    this.currentRules = next;
  }

  /** The channels a rule may name now: the console and those set up. */
  channelNames(): ReadonlySet<string> {
    return new Set([CONSOLE, ...this.opts.channels.list.map((c) => c.name)]);
  }

  /**
   * Refuses (400 at `channels[i]`) a channel that is not set up; an edit of `ruleId` keeps
   * the channels it already named, deleted since or not.
   */
  checkChannels(channels: readonly string[], ruleId?: string): void {
    const kept = this.currentRules.find((r) => r.id === ruleId)?.channels ?? [];
    checkRuleChannels(channels, this.channelNames(), new Set(kept));
  }

  addRule(input: unknown, id: string = randomUUID()): Rule {
    const rule: Rule = { id, ...ruleInputSchema.parse(input) };
    checkRuleChannels(rule.channels, this.channelNames());
    const max = this.opts.maxRules ?? 500;
    const rules = this.currentRules;
    if (rules.length >= max && !rules.some((r) => r.id === id)) {
      throw new AppError(
        'LIMIT_REACHED',
        `There are ${rules.length} alert rules, the most allowed (ALERT_RULES_MAX=${max}); delete one first`,
      );
    }
    this.saveRules([...rules.filter((r) => r.id !== id), rule]);
    return rule;
  }

  updateRule(id: string, input: unknown): Rule | undefined {
    if (!this.currentRules.some((r) => r.id === id)) return undefined;
    const rule: Rule = { id, ...ruleInputSchema.parse(input) };
    this.checkChannels(rule.channels, id);
    this.saveRules(this.currentRules.map((r) => (r.id === id ? rule : r)));
    this.opts.onRuleChanged(id);
    return rule;
  }

  deleteRule(id: string): boolean {
    const next = this.currentRules.filter((r) => r.id !== id);
    if (next.length === this.currentRules.length) return false;
    this.saveRules(next);
    this.opts.onRuleChanged(id);
    return true;
  }

  /**
   * Imports a preset with the channels that exist (the console always does) and says which
   * of its channels are not set up; importing it again once they are adds them.
   */
  importPreset(presetId: string): { rule: Rule; channelsNotSetUp: string[] } | undefined {
    const preset = PRESETS.find((p) => p.id === presetId);
    if (!preset) return undefined;
    const { channels, notSetUp } = presetChannels(preset.rule.channels ?? [CONSOLE], this.channelNames());
    const rule = this.addRule({ ...preset.rule, channels } satisfies RuleInput, `preset:${preset.id}`);
    return { rule, channelsNotSetUp: notSetUp };
  }

  // ---- silences ----

  private saveSilences(next: Silence[]): void {
    this.opts.files.silences.save(next);
    this.currentSilences = next;
  }

  addSilence(input: unknown): Silence {
    const silence: Silence = { id: randomUUID(), createdAt: this.opts.clock(), ...silenceInputSchema.parse(input) };
    this.saveSilences([...this.currentSilences, silence]);
    return silence;
  }

  deleteSilence(id: string): boolean {
    const next = this.currentSilences.filter((s) => s.id !== id);
    if (next.length === this.currentSilences.length) return false;
    this.saveSilences(next);
    return true;
  }

  // ---- channels ----

  /** What the API shows: the console and each channel, never a secret (only whether one is set), URLs masked. */
  channelsView(): { channels: ChannelView[] } {
    return { channels: this.opts.channels.views() };
  }

  channelView(name: string): ChannelView | undefined {
    return this.opts.channels.views().find((v) => v.name === name);
  }

  private saveChannels(next: Channel[]): void {
    this.opts.files.channels.save(channelsToFile(next));
    this.opts.channels.apply(next);
    this.opts.onChannelsChanged();
  }

  /** The whole list (or the first version's { email, webhook }). */
  setChannels(input: unknown): void {
    this.saveChannels(parseChannelList(input, this.opts.channels.list));
  }

  addChannel(input: unknown): ChannelView {
    const list = this.opts.channels.list;
    const name = (input as { name?: unknown } | null)?.name;
    if (name === CONSOLE || (typeof name === 'string' && list.some((c) => c.name === name))) {
      throw new AppError(
        'CONFLICT',
        `name: a channel named "${String(name)}" exists; edit it with PUT /api/monitor/alerts/channels/${String(name)}`,
        { field: 'name' },
      );
    }
    const channel = parseChannel(input, undefined);
    this.saveChannels([...list, channel]);
    return this.opts.channels.viewOf(channel);
  }

  /** Replaces one channel (its write-only fields kept when left out); undefined when there is none of that name. */
  updateChannel(name: string, input: unknown): ChannelView | undefined {
    const list = this.opts.channels.list;
    const current = list.find((c) => c.name === name);
    if (!current) return undefined;
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? { name, ...input } : input;
    if ((body as { name?: unknown }).name !== name)
      throw new AppError(
        'VALIDATION_FAILED',
        `name: a channel keeps its name (rules refer to it); add a new channel instead`,
        { field: 'name' },
      );
    const channel = parseChannel(body, current);
    this.saveChannels(list.map((c) => (c.name === name ? channel : c)));
    return this.opts.channels.viewOf(channel);
  }

  deleteChannel(name: string): boolean {
    if (name === CONSOLE) throw new AppError('BAD_REQUEST', 'console is built in and always on', { field: 'name' });
    const list = this.opts.channels.list;
    const next = list.filter((c) => c.name !== name);
    if (next.length === list.length) return false;
    this.saveChannels(next);
    return true;
  }
}
