import { existsSync, readFileSync } from 'node:fs';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppConfig, ConfigError } from '@latchkey/config';
import { AccessGuard } from './access.guard';
import { ensureDevKeys } from './dev-keys';
import { JwtVerifier } from './jwt.verifier';

/**
 * Importing this module guards every route of the app (APP_GUARD): a bearer token is required
 * unless a route is @Public().
 */
@Module({
  providers: [
    { provide: JwtVerifier, inject: [AppConfig], useFactory: createVerifier },
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [JwtVerifier],
})
export class AccessModule {}

export function createVerifier({ env, auth }: AppConfig): JwtVerifier {
  const options = {
    issuer: auth.issuer,
    audience: auth.audience,
    clockToleranceSeconds: auth.clockToleranceSeconds,
  };
  if (auth.keySource.kind === 'jwks') return JwtVerifier.fromJwksUrl(auth.keySource.url, options);
  const file = auth.keySource.file;
  if (env !== 'production' && !existsSync(file)) {
    // A fresh clone works at once: the development pair is created on first start (never in production).
    ensureDevKeys({ privateKeyFile: auth.devPrivateKeyFile, publicKeyFile: file });
  }
  try {
    return JwtVerifier.fromPublicKeyPem(readFileSync(file), options);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'not an EC P-256, Ed25519 or RSA public key';
    throw new ConfigError(`Invalid configuration:\n  JWT_PUBLIC_KEY_FILE cannot be used: ${reason}`);
  }
}
