// Signing in. With an OpenID Connect issuer: the authorization-code flow with PKCE (S256) as a public
// client, state and nonce checked (oauth4webapi does the protocol work). For the demo tenant, when the
// API enables it: the development sign-in. Either way the result is a bearer token for the API, kept in
// this tab's sessionStorage only (gone when the tab closes) and never in a URL.
import * as oauth from 'oauth4webapi';
import { problemOf, type ConsoleConfig, type Role } from './api';

type OidcConfig = NonNullable<ConsoleConfig['oidc']>;

const SESSION_KEY = 'latchkey.session';
const PENDING_KEY = 'latchkey.oidc-pending';

export interface Session {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export function loadSession(): Session | null {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return session && session.expiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

/** http:// is accepted by the API's configuration only for a loopback issuer (tests, a local provider). */
const insecureIfLoopback = (issuer: URL) =>
  issuer.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {};

async function discover(config: OidcConfig): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(config.issuer);
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecureIfLoopback(issuer) });
  return oauth.processDiscoveryResponse(issuer, response);
}

const redirectUri = (config: OidcConfig) => new URL(config.redirectPath, location.origin).href;

/** Sends the browser to the issuer, remembering (for this tab) what the callback must match. */
export async function beginOidcSignIn(config: OidcConfig): Promise<void> {
  const as = await discover(config);
  if (!as.authorization_endpoint) throw new Error('The issuer has no authorization endpoint.');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, nonce }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', redirectUri(config));
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', config.scope);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  if (config.resource) url.searchParams.set('resource', config.resource);
  location.assign(url.href);
}

/** On the redirect back: checks state, exchanges the code with the PKCE verifier, checks the ID token's nonce. */
export async function completeOidcSignIn(config: OidcConfig, current: URL): Promise<Session> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as {
    verifier: string;
    state: string;
    nonce: string;
  } | null;
  sessionStorage.removeItem(PENDING_KEY); // one attempt per sign-in: a replayed callback finds nothing
  if (!pending) throw new Error('This sign-in was not started in this tab; start again.');
  const as = await discover(config);
  const client: oauth.Client = { client_id: config.clientId };
  const params = oauth.validateAuthResponse(as, client, current, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri(config),
    pending.verifier,
    {
      ...insecureIfLoopback(new URL(config.issuer)),
      ...(config.resource ? { additionalParameters: { resource: config.resource } } : {}),
    },
  );
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  return { accessToken: result.access_token, expiresAt: Date.now() + (result.expires_in ?? 300) * 1000 };
}

export type DevRole = Extract<Role, 'user' | 'tenant-admin' | 'auditor'>;

/** The development sign-in (off unless the API's configuration turns it on). */
export async function devSignIn(role: DevRole, username: string): Promise<Session> {
  const response = await fetch('/console/dev-sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(role === 'user' ? { role, username } : { role }),
  });
  if (!response.ok) throw await problemOf(response);
  const body = (await response.json()) as { accessToken: string; expiresIn: number };
  return { accessToken: body.accessToken, expiresAt: Date.now() + body.expiresIn * 1000 };
}
