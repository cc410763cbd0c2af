import { createTestApp, TestApp } from '../../setup/app';
import { http, registerUser, TestUser } from '../../setup/clients';
import { expectError } from './helpers';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 1)]);
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600', 'hex'), Buffer.alloc(64, 2)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const MP3 = Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([4, 0, 0, 0, 0, 0, 0]), Buffer.alloc(64, 0)]);
const WAV = Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.from([36, 0, 0, 0]), Buffer.from('WAVEfmt ', 'latin1'), Buffer.alloc(32, 0)]);
const ZIP = Buffer.concat([Buffer.from('504b0304', 'hex'), Buffer.alloc(64, 0)]);
const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>');
const SVG = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>');
const TOO_LARGE = 'File too large. Maximum size is 4 MB';

describe('REST upload (§4.6, Part A10)', () => {
  let app: TestApp;
  let u: TestUser;

  const upload = (name: string, bytes: Buffer, field = 'file', token = u.token) => {
    const form = new FormData();
    form.append(field, new Blob([new Uint8Array(bytes)]), name);
    return http(app, 'POST', '/api/v1/upload', { token, raw: form });
  };

  beforeAll(async () => {
    app = await createTestApp();
    u = await registerUser(app, 'up');
  });
  afterAll(() => app.close());

  it('200 with url, name, size and kind; stored under a random name; served with nosniff', async () => {
    const r = await upload('Holiday Photo.PNG', PNG);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      url: expect.stringMatching(/^\/static\/uploads\/[0-9a-f-]{36}\.png$/),
      file_name: 'Holiday Photo.PNG',
      file_size: PNG.length,
      is_image: true,
      is_audio: false,
      uploaded_by: u.id,
    });
    const again = await upload('Holiday Photo.PNG', PNG);
    expect(again.body.url).not.toBe(r.body.url);
    const rows = await app.ds.query('SELECT count(*)::int AS n FROM uploads');
    expect(rows[0].n).toBeGreaterThanOrEqual(2);
    const served = await fetch(app.url + r.body.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('content-security-policy')).toContain('sandbox');
    expect(Buffer.from(await served.arrayBuffer()).equals(PNG)).toBe(true);
    // unknown stored files are a JSON 404
    const missing = await http(app, 'GET', '/static/uploads/00000000-0000-4000-8000-000000000000.png');
    expect(missing.status).toBe(404);
  });

  it('accepts the allowed kinds when the bytes agree with the extension', async () => {
    const cases: [string, Buffer, boolean, boolean][] = [
      ['a.jpg', JPEG, true, false],
      ['a.jpeg', JPEG, true, false],
      ['doc.pdf', PDF, false, false],
      ['voice.mp3', MP3, false, true],
      ['voice.wav', WAV, false, true],
      ['notes.txt', Buffer.from('plain notes\nline 2, ünïcode ✓\n'), false, false],
      ['data.csv', Buffer.from('a,b\n1,2\n'), false, false],
      ['archive.zip', ZIP, false, false],
    ];
    for (const [name, bytes, isImage, isAudio] of cases) {
      const r = await upload(name, bytes);
      expect({ name, status: r.status, is_image: r.body.is_image, is_audio: r.body.is_audio, error: r.body.error }).toEqual({
        name,
        status: 200,
        is_image: isImage,
        is_audio: isAudio,
        error: undefined,
      });
    }
  });

  it('non-media files are served as downloads, never inline', async () => {
    const pdf = await upload('doc.pdf', PDF);
    const served = await fetch(app.url + pdf.body.url);
    expect(served.headers.get('content-type')).toBe('application/pdf');
    expect(served.headers.get('content-disposition')).toBe('attachment');
    const txt = await upload('t.txt', Buffer.from('hello'));
    const t = await fetch(app.url + txt.body.url);
    expect(t.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(t.headers.get('content-disposition')).toBe('attachment');
    expect(t.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses spoofed and active content (a PDF named .png, HTML, SVG)', async () => {
    expectError(await upload('cat.png', PDF), 400, "File content type 'application/pdf' is not allowed");
    expectError(await upload('page.html', HTML), 400, 'File type .html is not allowed');
    expectError(await upload('page.htm', HTML), 400, 'File type .htm is not allowed');
    expectError(await upload('image.svg', SVG), 400, 'File type .svg is not allowed');
    expectError(await upload('page.txt', HTML), 400, /^File content type '.+' is not allowed$/);
    expectError(await upload('image.png', SVG), 400, /^File content type '.+' is not allowed$/);
    expectError(await upload('photo.jpg', PNG), 400, "File content type 'image/png' is not allowed");
    expectError(await upload('run.exe', Buffer.from('MZ\x90\x00')), 400, 'File type .exe is not allowed');
    expectError(await upload('noext', PNG), 400, 'File type  is not allowed');
    expectError(await upload('x.js', Buffer.from('alert(1)')), 400, 'File type .js is not allowed');
    const rows = await app.ds.query(`SELECT original_name FROM uploads WHERE original_name IN ('cat.png', 'page.html', 'image.svg', 'page.txt', 'image.png')`);
    expect(rows).toEqual([]);
  });

  it('the client file name is kept as text only (no path)', async () => {
    const r = await upload('../../etc/evil.png', PNG);
    expect(r.status).toBe(200);
    expect(r.body.file_name).toBe('evil.png');
    expect(r.body.url).toMatch(/^\/static\/uploads\/[0-9a-f-]{36}\.png$/);
  });

  it('4 MB is the limit: exactly 4 MiB passes, one byte more is 413 JSON', async () => {
    const max = Buffer.concat([PNG, Buffer.alloc(4 * 1024 * 1024 - PNG.length, 0)]);
    const ok = await upload('big.png', max);
    expect(ok.status).toBe(200);
    expect(ok.body.file_size).toBe(4 * 1024 * 1024);
    const over = await upload('bigger.png', Buffer.concat([max, Buffer.from([0])]));
    expectError(over, 413, TOO_LARGE);
    const huge = await upload('huge.png', Buffer.concat([max, Buffer.alloc(2 * 1024 * 1024)]));
    expectError(huge, 413, TOO_LARGE);
  });

  it('400 without a file; 401 without a token', async () => {
    expectError(await upload('a.png', PNG, 'other'), 400, 'No file provided');
    expectError(await http(app, 'POST', '/api/v1/upload', { token: u.token, body: { file: 'x' } }), 400, 'No file provided');
    expectError(await http(app, 'POST', '/api/v1/upload', { token: u.token }), 400, 'No file provided');
    const form = new FormData();
    form.append('file', new Blob([PNG]), 'a.png');
    expectError(await http(app, 'POST', '/api/v1/upload', { raw: form }), 401, 'Authorization header is required');
    const broken = await http(app, 'POST', '/api/v1/upload', {
      token: u.token,
      raw: '--xx\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc',
      headers: { 'content-type': 'multipart/form-data; boundary=xx' },
    });
    expect(broken.status).toBe(400);
    expect(typeof broken.body.error).toBe('string');
  });
});
