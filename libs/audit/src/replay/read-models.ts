/**
 * Which tables are read models of the events (and can be rebuilt from them), grouped into the models
 * a rebuild replaces together, and which are not.
 *
 * Rebuildable, from the event store:
 * - `credentials`: tenants, accounts, credentials. Written by CredentialsProjection inline, in the
 *   append's transaction; every column comes from a tenant or user event.
 * - `sign-in-activity`: what the sign-in-activity Kafka projection writes, in one transaction under one
 *   set of positions: credential_usage (B7, last use per app password, from LegacySignInSucceeded),
 *   sign_in_activity (R9) and this projection's rows of projection_stream_positions. Fed from Kafka,
 *   but the same events are in the store, so it is rebuilt from there as well (and from the topic by
 *   `replay from-kafka`). The positions say which events the rows count: the Kafka consumer that
 *   resumes after the swap skips every event the rebuild already counted. credential_usage's foreign
 *   key points at credentials, so rebuilding `credentials` rebuilds this model too (the old
 *   credentials table could not be dropped under it otherwise).
 *
 * Not derivable from the events (never rebuilt, never touched):
 * - events, streams, outbox, projection_checkpoints: the store itself and its bookkeeping.
 * - event_chain, event_chain_state, event_chain_anchors (B3): evidence about the events table, sealed
 *   after the fact; rebuilding it from the rows it vouches for would launder any tampering.
 * - sign_in_lockouts (B8): written directly by LockoutStore on each verification; no event records
 *   the lockout state (a failed sign-in event does not say how the lockout policy counted it).
 * - directory_connections, directory_sync_cookies: configuration and the DirSync/uSN cookie of the
 *   directory, stored beside a pass's events but not in them (bind passwords are sealed, never events).
 * - hr_webhook_secrets: sealed secrets, never in an event.
 * - projection_dead_letters: events a Kafka-fed model set aside because it could not apply them (the
 *   live consumer's record of what it lacks; a rebuild meets those events again).
 * - offboardings: written inline with the offboarding events, but its request_hash is the digest of
 *   the webhook body that asked for the offboarding, which no event carries; a rebuild would lose the
 *   idempotency check's answer for a repeated webhook.
 */
export const REBUILDABLE_MODELS = ['credentials', 'sign-in-activity'] as const;
export type ReadModelName = (typeof REBUILDABLE_MODELS)[number];

/**
 * The tables of each model, in foreign-key order (a referenced table before its referrers): the
 * order they are created, locked and swapped in.
 */
export const MODEL_TABLES: Readonly<Record<ReadModelName, readonly string[]>> = {
  credentials: ['tenants', 'accounts', 'credentials'],
  'sign-in-activity': ['credential_usage', 'sign_in_activity', 'projection_stream_positions'],
};

/** The Kafka projection whose positions the sign-in-activity model owns. */
export const SIGN_IN_ACTIVITY_PROJECTION = 'sign-in-activity';

/** The models asked for, with what they drag along (credentials → sign-in-activity), in table order. */
export function resolveModels(only?: readonly string[]): ReadModelName[] {
  const asked = new Set<string>(only && only.length > 0 ? only : REBUILDABLE_MODELS);
  for (const name of asked) {
    if (!(REBUILDABLE_MODELS as readonly string[]).includes(name)) {
      throw new Error(
        `unknown read model ${name}: the rebuildable ones are ${REBUILDABLE_MODELS.join(', ')}`,
      );
    }
  }
  if (asked.has('credentials')) asked.add('sign-in-activity');
  return REBUILDABLE_MODELS.filter((name) => asked.has(name));
}

export const tablesOf = (models: readonly ReadModelName[]): string[] =>
  models.flatMap((model) => MODEL_TABLES[model]);
