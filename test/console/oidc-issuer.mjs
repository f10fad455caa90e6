// A real OpenID Connect issuer for the console's sign-in test: panva's oidc-provider, in its own
// process (it is ES modules only). The console is its public client (no secret, PKCE required); it
// issues ES256 JWT access tokens for the API's audience with Latchkey's claims (tid, roles, amr) for
// whoever signs in on its development login form (the login typed is the subject).
//   ISSUER_PORT, REDIRECT_URI, CLIENT_ID, RESOURCE, AUDIENCE, TENANT_ID, ROLES (comma-separated)
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const env = process.env;
const port = Number(env.ISSUER_PORT);
const issuer = `http://127.0.0.1:${port}`;
const jwk = (type, options) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  use: 'sig',
});

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env.CLIENT_ID,
      token_endpoint_auth_method: 'none',
      redirect_uris: [env.REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [jwk('rsa', { modulusLength: 2048 }), jwk('ec', { namedCurve: 'P-256' })] },
  pkce: { required: () => true },
  clientBasedCORS: (_ctx, origin) => new URL(env.REDIRECT_URI).origin === origin,
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  // First-party client: consent is implied, as an organisation's own console would configure it.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid');
    grant.addResourceScope(env.RESOURCE, 'api');
    await grant.save();
    return grant;
  },
  extraTokenClaims: async () => ({ tid: env.TENANT_ID, roles: env.ROLES.split(','), amr: ['pwd', 'mfa'] }),
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => env.RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: env.AUDIENCE,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.on('server_error', (_ctx, error) => console.error('issuer error:', error));
provider.listen(port, '127.0.0.1', () => console.log(`issuer ready on ${issuer}`));
