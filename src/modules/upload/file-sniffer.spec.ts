import { mimeForExtension, sniff } from './file-sniffer';
import { sanitizeFileName } from './upload.service';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000', 'hex');
const PDF = Buffer.from('%PDF-1.4\n%%EOF\n');

describe('sniff: extension and content must agree', () => {
  it('accepts matching pairs', () => {
    expect(sniff('.png', PNG)).toEqual({ ok: true, file: { mime: 'image/png', isImage: true, isAudio: false } });
    expect(sniff('.pdf', PDF)).toMatchObject({ ok: true, file: { mime: 'application/pdf' } });
    expect(sniff('.txt', Buffer.from('hello, world\n'))).toMatchObject({ ok: true });
  });
  it('refuses spoofed or active content', () => {
    expect(sniff('.png', PDF)).toEqual({ ok: false, actual: 'application/pdf' });
    expect(sniff('.jpg', PNG)).toMatchObject({ ok: false });
    expect(sniff('.txt', Buffer.from('<html><script>alert(1)</script></html>'))).toMatchObject({ ok: false });
    expect(sniff('.txt', Buffer.from('<svg onload=alert(1)>'))).toMatchObject({ ok: false });
    expect(sniff('.csv', Buffer.from([0x00, 0x01, 0x02]))).toMatchObject({ ok: false });
    expect(sniff('.svg', Buffer.from('<svg/>'))).toMatchObject({ ok: false });
    expect(sniff('.html', Buffer.from('<p>'))).toMatchObject({ ok: false });
  });
});

describe('mimeForExtension', () => {
  it('serves known extensions with their type and anything else as a download', () => {
    expect(mimeForExtension('.PNG')).toBe('image/png');
    expect(mimeForExtension('.html')).toBe('application/octet-stream');
    expect(mimeForExtension('.svg')).toBe('application/octet-stream');
  });
});

describe('sanitizeFileName', () => {
  it('keeps only the base name, without control characters, bounded', () => {
    expect(sanitizeFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFileName('C:\\Users\\me\\a.png')).toBe('a.png');
    expect(sanitizeFileName('a\u0000b\nc.txt')).toBe('abc.txt');
    expect(sanitizeFileName('')).toBe('file');
    expect(sanitizeFileName(undefined)).toBe('file');
    expect(Array.from(sanitizeFileName('😀'.repeat(300) + '.png'))).toHaveLength(255);
    expect(sanitizeFileName('x'.repeat(300) + '.png').endsWith('.png')).toBe(true);
  });
});
