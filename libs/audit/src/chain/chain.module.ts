import { Module } from '@nestjs/common';
import { MessagingModule } from '@latchkey/messaging';
import { ChainController } from './chain.controller';
import { ChainVerifier } from './chain-verifier';
import { ChainWorker } from './chain-worker';

/** B3: the chained history and its verification (routes for auditors). */
@Module({ controllers: [ChainController], providers: [ChainVerifier], exports: [ChainVerifier] })
export class ChainHttpModule {}

/** B3 in the sync worker: seals the history into the chain and publishes its head. */
@Module({ imports: [MessagingModule], providers: [ChainWorker], exports: [ChainWorker] })
export class ChainWorkerModule {}
