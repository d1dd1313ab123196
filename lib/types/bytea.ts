// bytea has two text formats: hex ('\x' then two hex digits per byte, the default since
// PostgreSQL 9.0) and the older escape format (bytea_output = 'escape'), where printable
// bytes stand for themselves, '\\' is a backslash and '\ooo' an octal byte.

export function parseBytea(text: string): Buffer {
  if (text.length >= 2 && text.charCodeAt(0) === 0x5c && text.charCodeAt(1) === 0x78 /* \x */) {
    return Buffer.from(text.slice(2), 'hex');
  }
  return parseByteaEscape(text);
}

function parseByteaEscape(text: string): Buffer {
  if (text.indexOf('\\') === -1) return Buffer.from(text, 'latin1');
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      out[n++] = c & 0xff;
      i += 1;
    } else if (text.charCodeAt(i + 1) === 0x5c) {
      out[n++] = 0x5c;
      i += 2;
    } else if (isOctal(text.charCodeAt(i + 1)) && isOctal(text.charCodeAt(i + 2)) && isOctal(text.charCodeAt(i + 3))) {
      out[n++] =
        ((text.charCodeAt(i + 1) - 0x30) << 6) | ((text.charCodeAt(i + 2) - 0x30) << 3) | (text.charCodeAt(i + 3) - 0x30);
      i += 4;
    } else {
      // not a valid escape: the server never produces one, keep the backslash as a byte
      out[n++] = 0x5c;
      i += 1;
    }
  }
  return out.subarray(0, n);
}

function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

/** Bytes as bytea input text in the hex format. */
export function formatBytea(bytes: Uint8Array): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return '\\x' + buffer.toString('hex');
}
