import { Body, Controller, Headers, HttpCode, Ip, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { Throttle, ThrottlerGuard } from '@nestjs/throttler';
import { Public } from '@latchkey/access';
import { ZodBody } from '@latchkey/problems';
import { z } from 'zod';
import { leakReportSchema } from '../http/schemas';
import { ReportLeak, type LeakReportResult } from './report-leak';

/** Per client address, counted across every API instance (SharedRateLimitStorage). */
export const LEAK_REPORTS_PER_MINUTE = 10;

/**
 * B12: anyone who finds app passwords in text (a paste, a commit, a log) reports it here, without
 * an account, as code hosts accept leaked tokens. Rate-limited per client address (behind a proxy named
 * by TRUST_PROXY, the address it forwards for), across every API instance.
 */
@ApiTags('leak reports')
@Controller('v1/leak-reports')
@Public()
@UseGuards(ThrottlerGuard)
export class LeakReportsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(202)
  @Throttle({ default: { limit: LEAK_REPORTS_PER_MINUTE, ttl: 60_000 } })
  @ApiResponse({
    status: 429,
    description: `More than ${LEAK_REPORTS_PER_MINUTE} reports from this client in a minute (problem type rate-limited).`,
    headers: {
      'Retry-After': { description: 'Seconds until reports are taken again', schema: { type: 'integer' } },
    },
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  })
  report(
    @Ip() clientIp: string,
    @Headers('user-agent') userAgent: string | undefined,
    @Body(new ZodBody(leakReportSchema)) body: z.infer<typeof leakReportSchema>,
  ): Promise<LeakReportResult> {
    return this.commands.execute(
      new ReportLeak(body.text, { clientIp, userAgent: userAgent ?? null, source: body.source ?? null }),
    );
  }
}
