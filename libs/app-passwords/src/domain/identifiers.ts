import { ValidationError } from './domain-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lower-case canonical UUIDs only, so one id has one spelling in stream ids and map keys. */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

export const requireUuid = (field: string, value: unknown): string => {
  if (!isUuid(value))
    throw new ValidationError('id.invalid', undefined, `${field} must be a lower-case UUID.`);
  return value;
};

export const tenantStreamId = (tenantId: string): string => `tenant-${requireUuid('tenantId', tenantId)}`;
export const userStreamId = (userId: string): string => `user-${requireUuid('userId', userId)}`;

export type StreamRef = { aggregate: 'tenant' | 'user'; id: string };

export const parseStreamId = (streamId: string): StreamRef | undefined => {
  const match = /^(tenant|user)-(.+)$/.exec(streamId);
  if (match === null || !isUuid(match[2])) return undefined;
  return { aggregate: match[1] as StreamRef['aggregate'], id: match[2] };
};

const MAX_USERNAME_LENGTH = 256;
const UPN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

/**
 * The user principal name as stored and looked up: NFKC, trimmed, lower-case. Also the key smart
 * lockout counts under, for existing and unknown users alike. Returns undefined for something that
 * cannot be a UPN.
 */
export const normaliseUsername = (input: string): string | undefined => {
  if (typeof input !== 'string') return undefined;
  const username = input.normalize('NFKC').trim().toLowerCase();
  if (username.length === 0 || username.length > MAX_USERNAME_LENGTH) return undefined;
  if (/[\p{Cc}\p{Cf}\p{Cs}]/u.test(username) || !UPN.test(username)) return undefined;
  return username;
};
