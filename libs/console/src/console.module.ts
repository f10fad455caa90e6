import { Module } from '@nestjs/common';
import { AppPasswordsModule } from '@latchkey/app-passwords';
import { ConsoleController } from './console.controller';

/** The web console for users, admins and auditors, served by the API on its own origin. */
@Module({ imports: [AppPasswordsModule], controllers: [ConsoleController] })
export class ConsoleModule {}
