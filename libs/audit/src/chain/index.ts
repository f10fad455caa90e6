export { canonicalJson } from './canonical-json';
export { canonicalEvent, chainLink, eventDigest, GENESIS_LINK, type ChainedEvent } from './chain-link';
export { ChainHttpModule, ChainWorkerModule } from './chain.module';
export {
  ChainSealer,
  type AnchorSink,
  type ChainAnchor,
  type ChainSealerOptions,
  type SealResult,
} from './chain-sealer';
export {
  ChainVerifier,
  type ChainBreak,
  type ChainBreakKind,
  type ChainReport,
  type VerifyOptions,
  type VerifyProgress,
} from './chain-verifier';
export { parseAnchor } from './anchor-format';
