import { createTestApp, TestApp } from '../../setup/app';
import { http } from '../../setup/clients';

/** Every REST endpoint the server routes, as OpenAPI paths. */
const ENDPOINTS: Record<string, string[]> = {
  '/api/v1/auth/register': ['post'],
  '/api/v1/auth/login': ['post'],
  '/api/v1/auth/logout': ['post'],
  '/api/v1/auth/me': ['get', 'patch'],
  '/api/v1/auth/username': ['patch'],
  '/api/v1/auth/email': ['patch'],
  '/api/v1/auth/password': ['patch'],
  '/api/v1/users/search': ['get'],
  '/api/v1/users/{id}': ['get'],
  '/api/v1/rooms': ['get', 'post'],
  '/api/v1/rooms/me': ['get'],
  '/api/v1/rooms/{id}': ['get', 'delete'],
  '/api/v1/rooms/{id}/join': ['post'],
  '/api/v1/rooms/{id}/leave': ['post'],
  '/api/v1/rooms/{id}/read': ['post'],
  '/api/v1/rooms/{id}/members': ['post'],
  '/api/v1/rooms/{id}/members/{userId}': ['delete', 'patch'],
  '/api/v1/rooms/{id}/messages': ['get', 'post'],
  '/api/v1/rooms/{id}/changes': ['get'],
  '/api/v1/messages/{id}': ['patch', 'delete'],
  '/api/v1/dm': ['get', 'post'],
  '/api/v1/upload': ['post'],
  '/health': ['get'],
  '/ready': ['get'],
};
const PUBLIC = new Set(['/api/v1/auth/register', '/api/v1/auth/login', '/health', '/ready']);

describe('OpenAPI document (/api/docs-json) and UI (/api/docs)', () => {
  let app: TestApp;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let doc: any;
  beforeAll(async () => {
    app = await createTestApp();
    const r = await http(app, 'GET', '/api/docs-json');
    expect(r.status).toBe(200);
    doc = r.body;
  });
  afterAll(() => app.close());

  it('is OpenAPI 3 with the bearer scheme', () => {
    expect(doc.openapi).toMatch(/^3\./);
    const schemes = Object.values(doc.components?.securitySchemes ?? {}) as { type: string; scheme: string }[];
    expect(schemes).toContainEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
  });

  it.each(Object.entries(ENDPOINTS))('lists %s with its methods, a response type, and bearer auth when protected', (path, methods) => {
    expect(doc.paths[path]).toBeDefined();
    for (const m of methods) {
      const op = doc.paths[path][m];
      expect({ path, m, documented: !!op }).toEqual({ path, m, documented: true });
      const codes = Object.keys(op.responses ?? {});
      expect(codes.some((c) => /^2\d\d$/.test(c))).toBe(true);
      if (!PUBLIC.has(path)) expect(JSON.stringify(op.security ?? doc.security ?? [])).toContain('bearer');
    }
  });

  it('documents request and response types of the main endpoints', () => {
    const ref = (o: unknown) => JSON.stringify(o);
    expect(ref(doc.paths['/api/v1/auth/register'].post.requestBody)).toContain('RegisterDto');
    expect(ref(doc.paths['/api/v1/auth/register'].post.responses['201'])).toContain('AuthResponseDto');
    expect(ref(doc.paths['/api/v1/rooms'].post.requestBody)).toContain('CreateRoomDto');
    expect(ref(doc.paths['/api/v1/rooms/{id}/messages'].get.responses['200'])).toContain('MessagePageDto');
    expect(ref(doc.paths['/api/v1/rooms/{id}/messages'].post.responses['201'])).toContain('MessageDto');
    expect(ref(doc.paths['/api/v1/dm'].get.responses['200'])).toContain('DmListDto');
    expect(ref(doc.paths['/api/v1/upload'].post.requestBody)).toContain('multipart/form-data');
    for (const name of ['UserDto', 'RoomDto', 'RoomMemberDto', 'MessageDto', 'ErrorDto']) expect(doc.components.schemas[name]).toBeDefined();
    expect(doc.components.schemas.CreateRoomDto.properties.type.enum).toEqual(['public', 'private']);
  });

  it('the UI is served', async () => {
    const r = await http(app, 'GET', '/api/docs');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/swagger/i);
  });
});
