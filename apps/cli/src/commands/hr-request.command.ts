import { Command, InvalidArgumentError, Option } from 'commander';
import { sendHrRequest } from '@latchkey/offboarding';

interface HrRequestOptions {
  api: string;
  tenant: string;
  secret: string;
  username: string;
  action: 'disable' | 'delete';
  effectiveAt?: string;
  reason?: string;
}

/**
 * `hr-request`: plays the HR system. Sends a signed offboarding request to the webhook (HMAC over
 * timestamp and body with the tenant's secret, a fresh Idempotency-Key) and prints the answer.
 */
export function hrRequestCommand(): Command {
  return new Command('hr-request')
    .description('send a signed HR offboarding request, as an HR system would')
    .option('--api <url>', 'the API', `http://127.0.0.1:${process.env.API_PORT ?? 3000}`)
    .requiredOption('--tenant <uuid>', 'the tenant')
    .requiredOption(
      '--secret <base64>',
      'the tenant’s HR webhook secret (POST /v1/offboarding/webhook-secret)',
    )
    .requiredOption('--username <upn>', 'who leaves')
    .addOption(
      new Option('--action <action>', 'disable or delete').choices(['disable', 'delete']).default('disable'),
    )
    .option('--effective-at <instant>', 'ISO instant in the future; now if omitted', parseInstant)
    .option('--reason <text>', 'why, for the audit trail')
    .action(async (options: HrRequestOptions) => {
      const response = await sendHrRequest({
        api: options.api,
        tenantId: options.tenant,
        secret: Buffer.from(options.secret, 'base64'),
        body: {
          username: options.username,
          action: options.action,
          ...(options.effectiveAt ? { effectiveAt: options.effectiveAt } : {}),
          ...(options.reason ? { reason: options.reason } : {}),
        },
      });
      console.log(`${response.status} ${await response.text()}`);
      if (!response.ok) process.exitCode = 1;
    });
}

function parseInstant(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected an ISO 8601 instant');
  return new Date(value).toISOString();
}
