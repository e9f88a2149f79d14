// What every request and answer of the app passes through first: the Host and Origin
// guards, each route's body limit, "100 Continue" only once a body is wanted, the JSON body
// parser with its budgets and prototype checks, and the scrubbing of secrets from error answers.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Scrub } from '../log/scrub-secrets.js';
import { installBodyLimits } from '../security/body-limits.js';
import { installExpectContinue } from '../security/expect-continue.js';
import { installRequestGuards } from '../security/guard.js';
import type { HostRules } from '../security/hosts.js';
import { installJsonParser } from '../security/json-body.js';
import { installResponseScrubbing } from '../security/scrub-responses.js';

export interface SecurityPluginOptions {
  hosts: HostRules;
  /** Replaces the configured secrets in every error answer. */
  scrub: Scrub;
}

async function security(app: FastifyInstance, opts: SecurityPluginOptions): Promise<void> {
  installResponseScrubbing(app, opts.scrub);
  installBodyLimits(app, app.initialConfig.bodyLimit ?? Number.POSITIVE_INFINITY);
  installJsonParser(app);
  installExpectContinue(app);
  installRequestGuards(app, opts.hosts);
}

/** Not encapsulated (fastify-plugin): these hooks and the parser are the app's, for every route. */
export const securityPlugin = fp(security, { name: 'security', fastify: '5.x' });
