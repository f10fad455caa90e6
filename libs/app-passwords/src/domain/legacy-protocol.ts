import { ValidationError } from './domain-error';

/**
 * Legacy (basic-authentication) protocols an app password can sign in with (B11), after Entra's
 * list of legacy client apps: IMAP, POP, SMTP AUTH, Exchange ActiveSync, CalDAV/CardDAV, MAPI over
 * HTTP / Outlook Anywhere (Office 2010 and older), Exchange Web Services.
 */
export const LEGACY_PROTOCOLS = ['IMAP', 'POP', 'SMTP', 'EAS', 'DAV', 'MAPI', 'EWS'] as const;
export type LegacyProtocol = (typeof LEGACY_PROTOCOLS)[number];

/**
 * Protocols that manage a tenant rather than read mail (remote PowerShell, the admin API). A gateway
 * asking for one of them asks for an administrative action, which an app password never authorizes (R4).
 */
export const ADMINISTRATIVE_PROTOCOLS = ['POWERSHELL', 'ADMIN-API'] as const;
export type AdministrativeProtocol = (typeof ADMINISTRATIVE_PROTOCOLS)[number];

const legacy: ReadonlySet<string> = new Set(LEGACY_PROTOCOLS);
const administrative: ReadonlySet<string> = new Set(ADMINISTRATIVE_PROTOCOLS);

export const isLegacyProtocol = (value: string): value is LegacyProtocol => legacy.has(value);

/** Case-insensitive: `imap`, `Imap` and `IMAP` are the same protocol. */
export const parseLegacyProtocol = (value: string): LegacyProtocol | undefined => {
  const upper = value.trim().toUpperCase();
  return isLegacyProtocol(upper) ? upper : undefined;
};

export const isAdministrativeProtocol = (value: string): boolean =>
  administrative.has(value.trim().toUpperCase());

/**
 * B11: the scope an app password is created with. Omitted or empty means every legacy protocol and is
 * stored as `null`, so a protocol added to the list later is open to unscoped app passwords too.
 * A scope is stored de-duplicated and in the order of LEGACY_PROTOCOLS, so equal scopes compare equal.
 */
export const normaliseProtocolScope = (requested: readonly string[] | undefined): LegacyProtocol[] | null => {
  if (requested === undefined || requested.length === 0) return null;
  const parsed = new Set<LegacyProtocol>();
  for (const value of requested) {
    const protocol = typeof value === 'string' ? parseLegacyProtocol(value) : undefined;
    if (protocol === undefined) {
      throw new ValidationError(
        'B11.unknown-protocol',
        'B11',
        `An app password can be scoped only to legacy protocols: ${LEGACY_PROTOCOLS.join(', ')}.`,
      );
    }
    parsed.add(protocol);
  }
  return LEGACY_PROTOCOLS.filter((protocol) => parsed.has(protocol));
};

/** B11: does a scope (null = every legacy protocol) cover the protocol a sign-in asks for? */
export const scopeAllows = (scope: readonly LegacyProtocol[] | null, protocol: LegacyProtocol): boolean =>
  scope === null || scope.includes(protocol);
