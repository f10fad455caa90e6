import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { parseConfig, ParsedConfig } from './config.schema';

/**
 * The validated, typed configuration. Inject it by this class: `constructor(private config: AppConfig)`.
 * (A class and an interface of the same name merge, so the token carries the parsed type.)
 */
/* eslint-disable @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type */
export abstract class AppConfig {}
export interface AppConfig extends ParsedConfig {}
/* eslint-enable @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type */

const KEY = 'latchkey';

@Global()
@Module({})
export class LatchkeyConfigModule {
  /** Loads `.env` (the environment wins) and validates everything once; a bad value stops start-up. */
  static forRoot(): DynamicModule {
    return {
      module: LatchkeyConfigModule,
      imports: [
        ConfigModule.forRoot({ envFilePath: ['.env'], load: [() => ({ [KEY]: parseConfig(process.env) })] }),
      ],
      providers: [
        {
          provide: AppConfig,
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow<ParsedConfig>(KEY),
        },
      ],
      exports: [AppConfig],
    };
  }
}
