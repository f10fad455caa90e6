import { Command } from 'commander';
import { auditAtCommand } from './audit-at.command';
import { auditCounterfactualCommand } from './audit-counterfactual.command';
import { auditEventsCommand } from './audit-events.command';
import { auditExportCommand } from './audit-export.command';
import { auditVerifyChainCommand } from './audit-verify-chain.command';

/** `audit`: auditors' reading of the history, straight from PostgreSQL. */
export function auditCommand(): Command {
  return new Command('audit')
    .description("read and export a tenant's history (reads PostgreSQL directly)")
    .addCommand(auditEventsCommand())
    .addCommand(auditExportCommand())
    .addCommand(auditAtCommand())
    .addCommand(auditCounterfactualCommand())
    .addCommand(auditVerifyChainCommand());
}
