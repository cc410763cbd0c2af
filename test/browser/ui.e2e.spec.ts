/**
 * The browser client in a real Chromium (playwright-core) against the real server and database:
 * two users chat in a DM (typing, read ticks, reply, edit, delete, image upload), a third joins a
 * public room, hostile text and file names stay text, a dropped connection catches up, settings
 * show the server's errors, logout revokes the token and back-navigation shows the login page.
 * axe-core scans the login and chat screens (light and dark). Screenshots go to docs/screenshots
 * with UPDATE_SCREENSHOTS=1 (otherwise to a temporary folder).
 */
import AxeBuilder from '@axe-core/playwright';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ConnectionHub } from '../../src/realtime/connection-hub';
import { createTestApp, type TestApp } from '../setup/app';
import { http, registerUser, type TestUser } from '../setup/clients';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
// The README's screenshots are rewritten only when asked (UPDATE_SCREENSHOTS=1): a plain run
// takes them too, into a temporary folder, and leaves the work tree clean.
const SHOTS = process.env.UPDATE_SCREENSHOTS ? resolve(__dirname, '../../docs/screenshots') : join(tmpdir(), 'chatapp-screenshots');
const XSS = '<img src=x onerror=alert(1)>';

if (!HAVE_CHROMIUM && !process.env.CI) {
  // straight to stdout: jest swallows console output of a file whose tests are all skipped
  process.stdout.write(`SKIPPED test/browser/ui.e2e.spec.ts: Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);
}
const suite = HAVE_CHROMIUM || process.env.CI ? describe : describe.skip;

jest.setTimeout(60_000);

// ------------------------------------------------------------------ helpers

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** A real PNG (w×h, solid colour) built byte by byte. */
function tinyPng(w = 4, h = 3): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows: number[] = [];
  for (let y = 0; y < h; y++) {
    rows.push(0);
    for (let x = 0; x < w; x++) rows.push(220, 40, 40);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function eventually<T>(fn: () => Promise<T> | T, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false && v !== undefined && v !== null) return v;
      last = new Error(`returned ${String(v)}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out: ${what}: ${last instanceof Error ? last.message : String(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const byTestId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);
const messages = (page: Page, text?: string) => {
  const all = page.locator('[data-testid="message-list"] [data-testid="message"]');
  return text === undefined ? all : all.filter({ hasText: text });
};

async function visible(page: Page, id: string, ms = 8000) {
  await byTestId(page, id).first().waitFor({ state: 'visible', timeout: ms });
}

async function seeMessage(page: Page, text: string, ms = 8000) {
  await messages(page, text).first().waitFor({ state: 'visible', timeout: ms });
}

async function send(page: Page, text: string) {
  const box = byTestId(page, 'composer-input');
  await box.fill(text);
  await box.press('Enter');
}

async function registerInUi(page: Page, base: string, prefix: string) {
  const username = `${prefix}${Date.now().toString(36).slice(-5)}${Math.floor(Math.random() * 1e4)}`;
  const user = { username, email: `${username}@example.com`, password: 'passw0rd' };
  await page.goto(base + '/');
  await visible(page, 'login-form');
  await byTestId(page, 'tab-register').click();
  await byTestId(page, 'register-username').fill(user.username);
  await byTestId(page, 'register-email').fill(user.email);
  await byTestId(page, 'register-password').fill(user.password);
  await byTestId(page, 'register-submit').click();
  await visible(page, 'app-view');
  await eventually(async () => (await byTestId(page, 'me-name').textContent()) === username, 'me-name shows the user');
  return user;
}

async function openConversation(page: Page, title: string) {
  await byTestId(page, 'room-item').filter({ hasText: title }).first().click();
  await eventually(async () => (await byTestId(page, 'chat-title').textContent()) === title, `chat title ${title}`);
}

async function connected(page: Page) {
  await eventually(async () => (await byTestId(page, 'conn-state').getAttribute('data-state')) === 'online', 'socket online');
}

async function axeSerious(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// ------------------------------------------------------------------ the scenario

suite('browser client (Chromium)', () => {
  let app: TestApp;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let a: Page;
  let b: Page;
  let c: Page;
  let ua: { username: string; email: string; password: string };
  let ub: { username: string; email: string; password: string };
  let uc: TestUser;
  let roomName: string;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) {
      throw new Error(`Chromium is required in CI but was not found at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
    }
    mkdirSync(SHOTS, { recursive: true });
    const port = await freePort();
    app = await createTestApp({ PORT: String(port), ALLOWED_ORIGINS: `http://127.0.0.1:${port}` });
    base = app.url;
    // launch() gives every run a fresh temporary user-data dir; contexts are fresh too
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const newPage = async () => {
      const ctx = await browser.newContext({ viewport: { width: 1180, height: 760 }, locale: 'en-US', timezoneId: 'UTC' });
      contexts.push(ctx);
      const page = await ctx.newPage();
      page.setDefaultTimeout(8000);
      page.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss();
      });
      page.on('pageerror', (e) => pageErrors.push(`${e.message} ${e.stack ?? ''}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) pageErrors.push(m.text());
      });
      return page;
    };
    a = await newPage();
    b = await newPage();
    c = await newPage();
  });

  afterAll(async () => {
    for (const ctx of contexts) await ctx.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.close();
  });

  it('serves the client with a strict CSP, redirects / and shows an accessible login page', async () => {
    const root = await http(app, 'GET', '/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/static/');
    const page = await http(app, 'GET', '/static/');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // no inline scripts
    expect(page.text).not.toMatch(/\son[a-z]+=/i); // no inline handlers
    expect(page.text).not.toMatch(/\sstyle=/i); // no inline styles

    // the client's own code never builds markup from strings
    for (const f of ['app.js', 'api.js', 'socket.js', 'dom.js']) {
      const js = await http(app, 'GET', `/static/js/${f}`);
      expect(js.status).toBe(200);
      expect(js.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    }

    await a.goto(base + '/');
    await visible(a, 'login-form');
    expect(a.url()).toBe(`${base}/static/#/login`);
    expect(await byTestId(a, 'app-view').isHidden()).toBe(true);
    expect(await axeSerious(a)).toEqual([]);
    await a.screenshot({ path: join(SHOTS, 'login.png') });

    // a server error text is shown on a failed login
    await byTestId(a, 'login-identifier').fill('nobody_here');
    await byTestId(a, 'login-password').fill('wrongpass1');
    await byTestId(a, 'login-submit').click();
    await eventually(async () => (await byTestId(a, 'auth-error').textContent()) === 'invalid credentials', 'login error shown');
  });

  it('registers two users in the browser and keeps the session across a reload', async () => {
    ua = await registerInUi(a, base, 'alice');
    ub = await registerInUi(b, base, 'bob');
    const token = await a.evaluate(() => JSON.parse(localStorage.getItem('chatapp_token') ?? '{}').token as string);
    expect(typeof token).toBe('string');
    expect(a.url()).not.toContain(token);
    await a.reload();
    await visible(a, 'app-view');
    expect(await byTestId(a, 'me-name').textContent()).toBe(ua.username);
    await connected(a);
    await connected(b);
  });

  it('starts a DM by searching and exchanges messages both ways with typing, presence and read ticks', async () => {
    await byTestId(a, 'dm-search').fill(ub.username.slice(0, 8));
    await byTestId(a, 'user-result').filter({ hasText: ub.username }).first().click();
    await eventually(async () => (await byTestId(a, 'chat-title').textContent()) === ub.username, 'A opened the DM');

    // B learns about the DM (dm_created) and opens it
    await byTestId(b, 'room-item').filter({ hasText: ua.username }).first().waitFor({ timeout: 8000 });
    await openConversation(b, ua.username);

    // presence: each sees the other online
    await eventually(async () => (await byTestId(a, 'online-dot').first().getAttribute('data-online')) === 'true', 'B online in A');
    await eventually(async () => (await byTestId(b, 'online-dot').first().getAttribute('data-online')) === 'true', 'A online in B');

    // typing
    await byTestId(a, 'composer-input').pressSequentially('hel', { delay: 30 });
    await eventually(async () => (await byTestId(b, 'typing-indicator').textContent()) === `${ua.username} is typing…`, 'typing shown');
    await byTestId(a, 'composer-input').pressSequentially('lo Bob', { delay: 10 });
    await byTestId(a, 'composer-input').press('Enter');
    await seeMessage(b, 'hello Bob');
    await eventually(async () => (await byTestId(b, 'typing-indicator').textContent()) === '', 'typing cleared');

    // B has the DM open: it reads the message, A's tick turns to read
    const aMsg = messages(a, 'hello Bob').first();
    await eventually(async () => (await aMsg.locator('[data-testid="read-tick"]').getAttribute('data-read')) === 'true', 'read tick');

    await send(b, 'hi Alice');
    await seeMessage(a, 'hi Alice');
    expect(await messages(a, 'hi Alice').first().getAttribute('data-mine')).toBe('false');
    expect(await messages(b, 'hi Alice').first().getAttribute('data-mine')).toBe('true');
  });

  it('creates a public room, and B joins it by browsing', async () => {
    roomName = `General ${Date.now().toString(36).slice(-4)}`;
    await byTestId(a, 'create-room-button').click();
    await byTestId(a, 'room-name-input').fill(roomName);
    await byTestId(a, 'room-description').fill('Everyone is welcome');
    await byTestId(a, 'room-create-submit').click();
    await eventually(async () => (await byTestId(a, 'chat-title').textContent()) === roomName, 'room opened');

    await byTestId(b, 'browse-rooms-button').click();
    const entry = byTestId(b, 'public-room').filter({ hasText: roomName });
    await entry.waitFor({ timeout: 8000 });
    await entry.locator('[data-testid="join-room"]').click();
    await eventually(async () => (await byTestId(b, 'chat-title').textContent()) === roomName, 'B in the room');
  });

  it('edits, deletes and gets a reply while the other side has not read yet; unread badge shows', async () => {
    await openConversation(a, ub.username);
    // B is looking at the room, so the DM stays unread and A may still edit and delete
    await send(a, 'typo mesage');
    await seeMessage(a, 'typo mesage');
    const typo = messages(a, 'typo mesage').first();
    await typo.locator('[data-testid="edit-button"]').click();
    await byTestId(a, 'composer-input').fill('fixed message');
    await byTestId(a, 'composer-input').press('Enter');
    await seeMessage(a, 'fixed message');
    expect(await messages(a, 'fixed message').first().locator('[data-testid="edited"]').count()).toBe(1);

    await send(a, 'oops wrong chat');
    await seeMessage(a, 'oops wrong chat');
    await messages(a, 'oops wrong chat').first().locator('[data-testid="delete-button"]').click();
    await seeMessage(a, 'This message was deleted');
    expect(await messages(a, 'oops wrong chat').count()).toBe(0);

    const dmItem = byTestId(b, 'room-item').filter({ hasText: ua.username }).first();
    await dmItem.locator('[data-testid="unread-badge"]').waitFor({ timeout: 8000 });
    expect(await dmItem.locator('[data-testid="room-preview"]').textContent()).toBe('Message deleted');

    await openConversation(b, ua.username);
    await seeMessage(b, 'fixed message');
    await seeMessage(b, 'This message was deleted');
    expect(await messages(b, 'typo mesage').count()).toBe(0);
    expect(await messages(b, 'oops wrong chat').count()).toBe(0);
    expect(await dmItem.locator('[data-testid="unread-badge"]').count()).toBe(0);

    // B replies to the edited message: both see the quote
    await messages(b, 'fixed message').first().locator('[data-testid="reply-button"]').click();
    await visible(b, 'reply-bar');
    await send(b, 'replying to you');
    for (const p of [a, b]) {
      const reply = messages(p, 'replying to you').first();
      await reply.waitFor({ timeout: 8000 });
      expect(await reply.locator('[data-testid="reply-quote"]').textContent()).toContain('fixed message');
    }
    // once read by B, A can no longer edit or delete
    await eventually(async () => (await messages(a, 'fixed message').first().locator('[data-testid="read-tick"]').getAttribute('data-read')) === 'true', 'read');
    expect(await messages(a, 'fixed message').first().locator('[data-testid="edit-button"]').count()).toBe(0);
  });

  it('uploads an image that renders in both browsers', async () => {
    await byTestId(a, 'file-input').setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: tinyPng() });
    for (const p of [a, b]) {
      const img = p.locator('[data-testid="message-image"]').first();
      await img.waitFor({ timeout: 8000 });
      await eventually(() => img.evaluate((n) => (n as HTMLImageElement).complete && (n as HTMLImageElement).naturalWidth === 4), 'image decoded');
      expect(await img.getAttribute('alt')).toBe('red.png');
      expect(await img.getAttribute('src')).toMatch(/^\/static\/uploads\//);
    }
  });

  it('renders hostile text and a hostile file name as text', async () => {
    await send(a, XSS);
    await byTestId(a, 'file-input').setInputFiles({ name: `${XSS}.txt`, mimeType: 'text/plain', buffer: Buffer.from('just text\n') });
    for (const p of [a, b]) {
      await eventually(async () => (await p.locator('[data-testid="message-text"]').allTextContents()).includes(XSS), 'xss text shown');
      const link = p.locator('[data-testid="file-link"]').filter({ hasText: `${XSS}.txt` });
      await link.waitFor({ timeout: 8000 });
      expect(await link.getAttribute('download')).toBe(`${XSS}.txt`);
      expect(await p.locator('img[src="x"]').count()).toBe(0);
      expect(await p.locator('[data-testid="message-list"] img:not([data-testid="message-image"])').count()).toBe(0);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(dialogs).toEqual([]);
  });

  it('lets a third user log in with email, join the public room and chat there', async () => {
    uc = await registerUser(app, 'carol');
    await c.goto(base + '/static/');
    await visible(c, 'login-form');
    await byTestId(c, 'login-identifier').fill(uc.email);
    await byTestId(c, 'login-password').fill(uc.password);
    await byTestId(c, 'login-submit').click();
    await visible(c, 'app-view');
    await connected(c);
    await byTestId(c, 'browse-rooms-button').click();
    const entry = byTestId(c, 'public-room').filter({ hasText: roomName });
    await entry.waitFor({ timeout: 8000 });
    await entry.locator('[data-testid="join-room"]').click();
    await eventually(async () => (await byTestId(c, 'chat-title').textContent()) === roomName, 'C in the room');
    await send(c, 'hello room from carol');
    await seeMessage(c, 'hello room from carol');

    await openConversation(a, roomName);
    await seeMessage(a, 'hello room from carol');
    await send(a, 'welcome carol');
    await seeMessage(c, 'welcome carol');
    const author = await messages(c, 'welcome carol').first().locator('[data-testid="message-author"]').textContent();
    expect(author).toBe(ua.username);
    await a.screenshot({ path: join(SHOTS, 'room.png') });
    await openConversation(a, ub.username);
    await a.screenshot({ path: join(SHOTS, 'chat-dm.png') });
  });

  it('reconnects by itself when the server drops the socket', async () => {
    const hub = app.app.get(ConnectionHub);
    const conns = (hub as unknown as { byUser: Map<string, Set<{ ws: { terminate(): void } }>> }).byUser;
    const bId = await b.evaluate(() => JSON.parse(localStorage.getItem('chatapp_token') ?? '{}').user.id as string);
    const before = [...(conns.get(bId) ?? [])];
    expect(before.length).toBe(1);
    for (const conn of before) conn.ws.terminate();
    await eventually(() => {
      const now = [...(conns.get(bId) ?? [])];
      return now.length === 1 && now[0] !== before[0];
    }, 'B opened a new socket');
    await connected(b);
    await send(a, 'after the server dropped you');
    await seeMessage(b, 'after the server dropped you');
  });

  it('catches up both ways without duplicates after the network was down', async () => {
    const bCtx = contexts[1];
    await bCtx.setOffline(true);
    await eventually(async () => (await byTestId(b, 'conn-state').getAttribute('data-state')) === 'offline', 'B shows offline');

    await send(a, 'sent while you were away 1');
    await send(a, 'sent while you were away 2');
    await seeMessage(a, 'sent while you were away 2');
    await send(b, 'B wrote this offline');
    await byTestId(b, 'pending-message').filter({ hasText: 'B wrote this offline' }).waitFor({ timeout: 4000 });
    expect(await byTestId(b, 'conn-state').getAttribute('data-state')).toBe('offline');
    expect(await messages(b, 'sent while you were away 1').count()).toBe(0);

    await bCtx.setOffline(false);
    await connected(b);
    await seeMessage(b, 'sent while you were away 1', 10_000);
    await seeMessage(b, 'sent while you were away 2');
    await seeMessage(a, 'B wrote this offline', 10_000);
    await seeMessage(b, 'B wrote this offline');
    await eventually(async () => (await byTestId(b, 'pending-message').count()) === 0, 'outbox drained');
    await new Promise((r) => setTimeout(r, 500));
    for (const p of [a, b]) {
      expect(await messages(p, 'sent while you were away 1').count()).toBe(1);
      expect(await messages(p, 'B wrote this offline').count()).toBe(1);
    }
  });

  it('adds a member to a private room, pages older history and plays audio', async () => {
    const secret = `Secret ${Date.now().toString(36).slice(-4)}`;
    await byTestId(a, 'create-room-button').click();
    await byTestId(a, 'room-name-input').fill(secret);
    await byTestId(a, 'room-type-private').check();
    await byTestId(a, 'room-create-submit').click();
    await eventually(async () => (await byTestId(a, 'chat-title').textContent()) === secret, 'private room opened');
    const roomId = /#\/room\/([0-9a-f-]{36})$/.exec(a.url())?.[1];
    expect(roomId).toBeDefined();

    await byTestId(a, 'add-member-button').click();
    await byTestId(a, 'add-member-search').fill(uc.username);
    await byTestId(a, 'add-member-results').locator('[data-testid="user-result"]').filter({ hasText: uc.username }).click();
    await eventually(async () => (await byTestId(a, 'add-member-form').locator('[role="status"]').textContent()) === `${uc.username} was added.`, 'added');
    // C is told at once and sees the room in the sidebar
    await byTestId(c, 'room-item').filter({ hasText: secret }).waitFor({ timeout: 8000 });

    // 35 messages: the first page shows the newest 30, "load older" brings the rest
    const token = await a.evaluate(() => JSON.parse(localStorage.getItem('chatapp_token') ?? '{}').token as string);
    for (let i = 1; i <= 35; i++) {
      const r = await http(app, 'POST', `/api/v1/rooms/${roomId}/messages`, { token, body: { content: `seed-${String(i).padStart(2, '0')}` } });
      expect(r.status).toBe(201);
    }
    await openConversation(c, secret);
    await seeMessage(c, 'seed-35');
    expect(await messages(c, 'seed-01').count()).toBe(0);
    expect(await messages(c).count()).toBe(30);
    await byTestId(c, 'load-older').click();
    await seeMessage(c, 'seed-01');
    expect(await messages(c).count()).toBe(35);
    expect(await byTestId(c, 'load-older').isHidden()).toBe(true);

    // a real (silent) WAV file becomes an audio player
    const samples = Buffer.alloc(800);
    const wav = Buffer.alloc(44);
    wav.write('RIFF', 0, 'ascii');
    wav.writeUInt32LE(36 + samples.length, 4);
    wav.write('WAVEfmt ', 8, 'ascii');
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20); // PCM
    wav.writeUInt16LE(1, 22); // mono
    wav.writeUInt32LE(8000, 24);
    wav.writeUInt32LE(8000, 28);
    wav.writeUInt16LE(1, 32);
    wav.writeUInt16LE(8, 34);
    wav.write('data', 36, 'ascii');
    wav.writeUInt32LE(samples.length, 40);
    await byTestId(a, 'file-input').setInputFiles({ name: 'note.wav', mimeType: 'audio/wav', buffer: Buffer.concat([wav, samples.fill(128)]) });
    const audio = c.locator('[data-testid="message-audio"]').first();
    await audio.waitFor({ state: 'attached', timeout: 8000 });
    expect(await audio.getAttribute('src')).toMatch(/^\/static\/uploads\/.+\.wav$/);
    expect(await audio.getAttribute('aria-label')).toBe('note.wav');
    await openConversation(a, ub.username);
  });

  it('shows settings with the server error texts, dark theme and phone width, all accessible', async () => {
    expect(await axeSerious(a)).toEqual([]);
    await byTestId(a, 'settings-button').click();
    await visible(a, 'settings-dialog');
    await byTestId(a, 'status-input').fill('Busy shipping');
    await byTestId(a, 'profile-submit').click();
    await eventually(async () => (await byTestId(a, 'profile-error').textContent()) === 'Profile saved.', 'profile saved');
    // avatar: uploaded, saved, and shown to the DM partner (profile_updated)
    await byTestId(a, 'avatar-input').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: tinyPng(8, 8) });
    await eventually(async () => (await byTestId(a, 'profile-error').textContent()) === 'Avatar updated.', 'avatar saved');
    const bAvatar = byTestId(b, 'room-item').filter({ hasText: ua.username }).locator('.avatar img');
    await bAvatar.waitFor({ timeout: 8000 });
    expect(await bAvatar.getAttribute('src')).toMatch(/^\/static\/uploads\/.+\.png$/);

    await byTestId(a, 'email-input').fill(`new.${ua.email}`);
    await byTestId(a, 'email-password').fill(ua.password);
    await byTestId(a, 'email-submit').click();
    await eventually(async () => (await byTestId(a, 'email-error').textContent()) === 'Email changed.', 'email changed');
    ua.email = `new.${ua.email}`;

    await byTestId(a, 'username-input').fill('bad name!');
    await byTestId(a, 'username-submit').click();
    await eventually(
      async () => (await byTestId(a, 'username-error').textContent()) === 'username must be 3-30 characters: letters, numbers, underscores only',
      'username error from the server',
    );
    await byTestId(a, 'current-password').fill('not-my-password1');
    await byTestId(a, 'new-password').fill('newpassw0rd');
    await byTestId(a, 'password-submit').click();
    await eventually(async () => (await byTestId(a, 'password-error').textContent()) === 'incorrect current password', 'password error');
    await byTestId(a, 'settings-dialog').evaluate((d) => (d.scrollTop = 0));
    await a.screenshot({ path: join(SHOTS, 'settings.png') });

    await byTestId(a, 'theme-toggle').check();
    expect(await a.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await byTestId(a, 'settings-close').click();
    expect(await axeSerious(a)).toEqual([]);
    await a.screenshot({ path: join(SHOTS, 'dark.png') });

    await a.setViewportSize({ width: 390, height: 780 });
    await a.screenshot({ path: join(SHOTS, 'phone.png') });
    const overflow = await a.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow).toBe(false);
    await byTestId(a, 'sidebar-toggle').click();
    await byTestId(a, 'room-item').first().waitFor({ state: 'visible' });
    await a.waitForTimeout(300); // the drawer's slide-in
    await a.screenshot({ path: join(SHOTS, 'phone-sidebar.png') });
    await openConversation(a, roomName);
    await a.setViewportSize({ width: 1180, height: 760 });
  });

  it('logs out (token revoked on the server) and back-navigation shows the login page', async () => {
    const token = await a.evaluate(() => JSON.parse(localStorage.getItem('chatapp_token') ?? '{}').token as string);
    expect((await http(app, 'GET', '/api/v1/auth/me', { token })).status).toBe(200);
    await byTestId(a, 'logout-button').click();
    await visible(a, 'login-form');
    expect(await a.evaluate(() => localStorage.getItem('chatapp_token'))).toBeNull();
    const me = await http(app, 'GET', '/api/v1/auth/me', { token });
    expect(me.status).toBe(401);
    expect(me.body.error).toContain('revoked');

    await a.goBack();
    await visible(a, 'login-form');
    expect(await byTestId(a, 'app-view').isHidden()).toBe(true);
    expect(await byTestId(a, 'message').count()).toBe(0);

    // logging in again by username, with the keyboard only
    await byTestId(a, 'login-identifier').focus();
    await a.keyboard.type(ua.username);
    await a.keyboard.press('Tab');
    await a.keyboard.type(ua.password);
    await a.keyboard.press('Enter');
    await visible(a, 'app-view');
    await byTestId(a, 'room-item').filter({ hasText: ub.username }).first().waitFor({ timeout: 8000 });
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
