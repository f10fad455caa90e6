import { Module, type DynamicModule } from '@nestjs/common';
import { MessagingModule } from '@latchkey/messaging';
import { EventRelay } from './event-relay';
import { EVENT_RELAY_PROCESS, type EventRelayProcess } from './event-relay-process';
import { ReadModelConsumers } from './read-model-consumers';

/**
 * The outbox relay to Kafka and the Kafka-fed read models, for the process that imports it as
 * `process`: they run only where EVENT_RELAY_IN says (the API by default; the sync worker when the
 * API's event loop is to serve requests only). Needs a DataSource (PersistenceModule).
 */
@Module({})
export class EventPublicationModule {
  static in(process: EventRelayProcess): DynamicModule {
    return {
      module: EventPublicationModule,
      imports: [MessagingModule],
      providers: [{ provide: EVENT_RELAY_PROCESS, useValue: process }, EventRelay, ReadModelConsumers],
      exports: [EventRelay],
    };
  }
}
