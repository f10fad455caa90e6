/** CRC-32 (IEEE 802.3, as zlib and PNG), table-driven. Kept here so the format stays pure TypeScript. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of the code units of an ASCII string, as an unsigned 32-bit number. */
export const crc32 = (ascii: string): number => {
  let crc = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) crc = TABLE[(crc ^ ascii.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
};
