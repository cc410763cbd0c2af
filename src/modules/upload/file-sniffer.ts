import { filetypeinfo } from 'magic-bytes.js';

export interface Sniffed {
  /** the MIME type we serve the file with */
  mime: string;
  isImage: boolean;
  isAudio: boolean;
}

/** Allowed extensions → magic-bytes.js type names that may carry them, and the served MIME type. */
const RULES: Record<string, { types: string[] | 'text'; mime: string; image?: boolean; audio?: boolean }> = {
  '.jpg': { types: ['jpg', 'jpeg'], mime: 'image/jpeg', image: true },
  '.jpeg': { types: ['jpg', 'jpeg'], mime: 'image/jpeg', image: true },
  '.png': { types: ['png', 'apng'], mime: 'image/png', image: true },
  '.gif': { types: ['gif'], mime: 'image/gif', image: true },
  '.webp': { types: ['webp'], mime: 'image/webp', image: true },
  '.pdf': { types: ['pdf'], mime: 'application/pdf' },
  '.doc': { types: ['doc'], mime: 'application/msword' },
  '.xls': { types: ['xls'], mime: 'application/vnd.ms-excel' },
  '.docx': { types: ['docx', 'zip'], mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
  '.xlsx': { types: ['xlsx', 'zip'], mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  '.zip': { types: ['zip'], mime: 'application/zip' },
  '.txt': { types: 'text', mime: 'text/plain; charset=utf-8' },
  '.csv': { types: 'text', mime: 'text/csv; charset=utf-8' },
  '.mp3': { types: ['mp3'], mime: 'audio/mpeg', audio: true },
  '.ogg': { types: ['ogx', 'ogg', 'oga', 'ogv', 'opus', 'spx'], mime: 'audio/ogg', audio: true },
  '.wav': { types: ['wav'], mime: 'audio/wav', audio: true },
  '.webm': { types: ['webm', 'mkv', 'mka'], mime: 'audio/webm', audio: true },
  '.m4a': { types: ['mp4', 'm4a', 'm4v', 'mov', '3gp'], mime: 'audio/mp4', audio: true },
};

export const ALLOWED_EXTENSIONS = Object.keys(RULES);

/** Served Content-Type for a stored file name (unknown → a download). */
export function mimeForExtension(ext: string): string {
  return RULES[ext.toLowerCase()]?.mime ?? 'application/octet-stream';
}

/** Text files: valid UTF-8, no control bytes, nothing a browser could take for markup. */
function looksLikePlainText(buf: Buffer): boolean {
  const head = buf.subarray(0, 65536);
  const text = head.toString('utf8');
  if (text.includes('\ufffd') && buf.length <= 65536) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text)) return false;
  if (/<\s*(html|script|svg|!doctype|iframe|body|head|\?xml)/i.test(text.slice(0, 4096))) return false;
  return true;
}

/** A short label of what the content really is (for the error message). */
function describe(buf: Buffer): string {
  const guess = filetypeinfo(buf.subarray(0, 4100))[0];
  if (guess) return guess.mime ?? guess.typename;
  return looksLikePlainText(buf) ? 'text/plain' : 'application/octet-stream';
}

/**
 * Extension and sniffed content must agree (a PDF named .png is refused). Returns null when the
 * extension is allowed but the bytes are something else.
 */
export function sniff(ext: string, buf: Buffer): { ok: true; file: Sniffed } | { ok: false; actual: string } {
  const rule = RULES[ext];
  if (!rule) return { ok: false, actual: describe(buf) };
  const file = { mime: rule.mime, isImage: !!rule.image, isAudio: !!rule.audio };
  if (rule.types === 'text') {
    const guesses = filetypeinfo(buf.subarray(0, 4100));
    return guesses.length === 0 && looksLikePlainText(buf) ? { ok: true, file } : { ok: false, actual: describe(buf) };
  }
  const names = filetypeinfo(buf.subarray(0, 4100)).map((g) => g.typename.toLowerCase());
  return names.some((n) => (rule.types as string[]).includes(n)) ? { ok: true, file } : { ok: false, actual: describe(buf) };
}
