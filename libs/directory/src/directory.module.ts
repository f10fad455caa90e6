import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DirectoryHealthIndicator } from './directory.health';

@Module({
  imports: [TerminusModule],
  providers: [DirectoryHealthIndicator],
  exports: [DirectoryHealthIndicator],
})
export class DirectoryModule {}
