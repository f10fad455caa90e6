import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import { mintDevToken, Public } from '@latchkey/access';
import { GetUser, type UserView } from '@latchkey/app-passwords';
import { AppConfig } from '@latchkey/config';
import { ProblemError, ZodBody } from '@latchkey/problems';
import { z } from 'zod';
import {
  CONSOLE_BASE_PATH,
  CONSOLE_DIST_DIR,
  consoleFileFor,
  contentSecurityPolicy,
  fileExistsUnder,
} from './console-files';

/** A development token lives a quarter of an hour: long enough to click through, short if it leaks. */
export const DEV_TOKEN_TTL_SECONDS = 15 * 60;

const devSignInSchema = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('user'), username: z.string().trim().min(3).max(320) }),
  z.strictObject({ role: z.enum(['tenant-admin', 'auditor']) }),
]);

/** What the console needs of Express's request and response (Nest's platform here). */
type Request = IncomingMessage & { path: string; next?: (error?: unknown) => void };
type Response = ServerResponse & {
  redirect(status: number, url: string): void;
  sendFile(path: string, options: Record<string, unknown>, done: (error?: Error) => void): void;
};

const notFound = () => new ProblemError(404, 'not-found', 'Not found');

/**
 * The web console: its built files under /console/ (any other path there is a route of the
 * single-page app, answered with its page), its configuration, and the development sign-in. Not part
 * of the documented /v1 API: the console uses that API like any other client, with a bearer token.
 */
@ApiExcludeController()
@Public()
@Controller('console')
export class ConsoleController {
  private readonly root = resolve(CONSOLE_DIST_DIR);
  private readonly exists = fileExistsUnder(this.root);
  private readonly csp: string;

  constructor(
    private readonly config: AppConfig,
    private readonly queries: QueryBus,
  ) {
    const issuer = config.console.oidc?.issuer;
    this.csp = contentSecurityPolicy(issuer ? new URL(issuer).origin : null);
  }

  /** What the page needs to sign in: the OIDC client's settings, and whether the development sign-in is on. */
  @Get('config.json')
  configuration(@Res({ passthrough: true }) res: Response) {
    res.setHeader('Cache-Control', 'no-store');
    const { oidc, devSignIn } = this.config.console;
    return {
      oidc: oidc && {
        issuer: oidc.issuer,
        clientId: oidc.clientId,
        scope: oidc.scope,
        resource: oidc.resource,
        redirectPath: `${CONSOLE_BASE_PATH}callback`,
      },
      devSignIn: devSignIn !== null,
    };
  }

  /**
   * Development only (CONSOLE_DEV_SIGN_IN): a short-lived token for the configured tenant with the
   * role asked for, signed with the development key the API trusts. Off, it does not exist (404).
   */
  @Post('dev-sign-in')
  @HttpCode(200)
  async devSignIn(
    @Body(new ZodBody(devSignInSchema)) body: z.infer<typeof devSignInSchema>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { devSignIn } = this.config.console;
    if (devSignIn === null) throw notFound();
    const { auth } = this.config;
    if (!existsSync(auth.devPrivateKeyFile)) {
      throw new ProblemError(503, 'development-key-missing', 'Development key missing', {
        detail: 'Create it with `node dist/apps/cli/src/main.js token …`, then restart the API.',
      });
    }
    const { tenantId } = devSignIn;
    let subject = `console-dev-${body.role}`;
    if (body.role === 'user') {
      const user: UserView | undefined = await this.queries.execute(
        new GetUser(tenantId, '', body.username.toLowerCase()),
      );
      if (!user) throw new ProblemError(404, 'not-found', 'Not found', { detail: 'There is no such user.' });
      subject = user.userId;
    }
    const accessToken = await mintDevToken(auth.devPrivateKeyFile, {
      tenantId,
      subject,
      roles: [body.role],
      mfa: true,
      ttlSeconds: DEV_TOKEN_TTL_SECONDS,
      issuer: auth.issuer,
      audience: auth.audience,
    });
    res.setHeader('Cache-Control', 'no-store');
    return { accessToken, tokenType: 'Bearer', expiresIn: DEV_TOKEN_TTL_SECONDS };
  }

  /** The page and its assets; `/console` itself moves to `/console/`, so relative URLs resolve. */
  @Get(['', '{*path}'])
  files(@Req() req: Request, @Res() res: Response): void {
    if (!req.path.startsWith(CONSOLE_BASE_PATH)) {
      res.redirect(308, CONSOLE_BASE_PATH);
      return;
    }
    const answer = consoleFileFor(req.path.slice(CONSOLE_BASE_PATH.length), this.exists);
    if (answer.kind === 'missing') throw notFound();
    if (answer.kind === 'page' && !this.exists('index.html')) {
      throw new ProblemError(503, 'console-not-built', 'Console not built', {
        detail: 'Build it with `npm run build`.',
      });
    }
    res.setHeader('Content-Security-Policy', this.csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', answer.cacheControl);
    res.sendFile(answer.path, { root: this.root, dotfiles: 'deny', cacheControl: false }, (error) => {
      if (error && !res.headersSent) {
        res.removeHeader('Cache-Control');
        req.next?.(error);
      }
    });
  }
}
