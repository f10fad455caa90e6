import type { AnchorCheck } from './chain-verifier';

/** `<seq>:<64 hex digits>`: how an anchor is written in logs, on Kafka and on the command line. */
export const ANCHOR_PATTERN = /^([1-9][0-9]{0,17}):([0-9a-fA-F]{64})$/;

export function parseAnchor(text: string): AnchorCheck | undefined {
  const match = ANCHOR_PATTERN.exec(text);
  return match ? { seq: match[1], link: match[2].toLowerCase() } : undefined;
}
