export {
  rebuildReadModels,
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
} from './event-store-rebuild';
export {
  rebuildFromKafka,
  type KafkaRebuildOptions,
  type KafkaRebuildProgress,
  type KafkaRebuildResult,
} from './kafka-rebuild';
export { REBUILDABLE_MODELS, resolveModels, type ReadModelName } from './read-models';
