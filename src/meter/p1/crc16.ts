// CRC-16/ARC, the checksum that ends every DSMR 4+ telegram: polynomial 0x8005 processed
// reflected (0xA001), initial value 0, no final xor. The telegram's CRC covers every byte from
// '/' up to and including '!', with the lines ending in CRLF as the P1 port sends them.

const TABLE: Uint16Array = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    table[n] = crc;
  }
  return table;
}

/** CRC-16/ARC of `bytes`; "123456789" gives 0xBB3D. */
export function crc16Arc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = (crc >>> 8) ^ (TABLE[(crc ^ byte) & 0xff] ?? 0);
  return crc;
}

/**
 * CRC-16/ARC of a string whose characters are bytes (latin1: code points 0..255). Telegrams are
 * handled as such strings so that one character is one byte on the wire.
 */
export function crc16ArcOfLatin1(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++)
    crc = (crc >>> 8) ^ (TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ?? 0);
  return crc;
}

/** The 4 upper-case hex digits a telegram carries after '!'. */
export function crcHex(crc: number): string {
  return crc.toString(16).toUpperCase().padStart(4, '0');
}
