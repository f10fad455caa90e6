import { Module } from '@nestjs/common';
import { AppPasswordsModule } from '@latchkey/app-passwords';
import { CounterfactualController } from './counterfactual.controller';
import { CounterfactualQueries } from './counterfactual.queries';

/** B5: a period's offboardings re-run under another delay model, from the history alone. */
@Module({
  // For the clock that measures windows still open.
  imports: [AppPasswordsModule],
  controllers: [CounterfactualController],
  providers: [CounterfactualQueries],
})
export class CounterfactualHttpModule {}
