/**
 * Replaces every control character (C0, DEL, C1) and the Unicode line and
 * paragraph separators in `text` by `replace(codePoint)`; other characters
 * are kept. Used so node names cannot break lines or drive a terminal.
 */
export function mapControls(text: string, replace: (code: number) => string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
    out += control ? replace(code) : ch;
  }
  return out;
}
