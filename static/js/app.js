// ChatApp browser client. Every piece of user content goes into the page through textContent /
// attributes set by createElement; no HTML string is ever parsed.
import { api, ApiError, clearSession, loadSession, saveSession, setUnauthorizedHandler } from './api.js';
import { ChatSocket } from './socket.js';
import { $, el, clear, fmtTime, fmtDay, initials, isUploadUrl } from './dom.js';

const EDIT_WINDOW_MS = 3 * 60 * 1000;
const HISTORY_PAGE = 30;
const THEME_KEY = 'chatapp_theme';

// ------------------------------------------------------------------ state

const state = {
  me: null,
  /** id → { id, name, type, description, created_by, other, last, unread, seq, activity, role, memberCount } */
  rooms: new Map(),
  openId: null,
  /** roomId → { byId: Map, page, totalPages, partnerReadAt, loaded } */
  history: new Map(),
  online: new Set(),
  /** roomId → Map userId → { username, timer } */
  typing: new Map(),
  replyTo: null,
  editing: null,
  /** client_msg_id → roomId for pending sends shown in the list */
  pending: new Map(),
  started: false,
  connectedOnce: false,
};

let socket = null;

// ------------------------------------------------------------------ theme

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme === 'dark' ? 'dark' : 'light';
  const t = $('#theme-toggle');
  if (t) t.checked = theme === 'dark';
}
applyTheme(localStorage.getItem(THEME_KEY) || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));

// ------------------------------------------------------------------ routing / views

function route() {
  const session = loadSession();
  if (!session) {
    if (state.started) stopApp();
    showAuth();
    if (location.hash !== '#/login') history.replaceState(null, '', '#/login');
    return;
  }
  showApp();
  if (!state.started) startApp(session);
  const m = /^#\/room\/([0-9a-f-]{36})$/.exec(location.hash);
  if (m && state.rooms.has(m[1]) && state.openId !== m[1]) openRoom(m[1]);
}

function showAuth() {
  $('#app-view').hidden = true;
  $('#auth-view').hidden = false;
  document.title = 'Sign in · ChatApp';
}

function showApp() {
  $('#auth-view').hidden = true;
  $('#app-view').hidden = false;
}

window.addEventListener('hashchange', route);
// a page restored from the back/forward cache re-checks the session
window.addEventListener('pageshow', (e) => {
  if (e.persisted) route();
});
window.addEventListener('storage', (e) => {
  if (e.key === 'chatapp_token') route();
});

setUnauthorizedHandler(() => {
  if (state.loggingOut) return;
  // the token was revoked or expired: back to the login page
  clearSession();
  route();
  setText($('#auth-error'), 'Your session has ended. Please sign in again.');
});

// ------------------------------------------------------------------ auth forms

function selectTab(which) {
  const login = which === 'login';
  $('#tab-login').setAttribute('aria-selected', String(login));
  $('#tab-register').setAttribute('aria-selected', String(!login));
  $('#tab-login').tabIndex = login ? 0 : -1;
  $('#tab-register').tabIndex = login ? -1 : 0;
  $('#login-form').hidden = !login;
  $('#register-form').hidden = login;
  setText($('#auth-error'), '');
}
$('#tab-login').addEventListener('click', () => selectTab('login'));
$('#tab-register').addEventListener('click', () => selectTab('register'));
for (const tab of [$('#tab-login'), $('#tab-register')]) {
  tab.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const next = tab.id === 'tab-login' ? 'register' : 'login';
      selectTab(next);
      $(`#tab-${next}`).focus();
    }
  });
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const id = $('#login-identifier').value.trim();
  const password = $('#login-password').value;
  if (!id || !password) return setText($('#auth-error'), 'Enter your email or username and your password.');
  const body = id.includes('@') ? { email: id, password } : { username: id, password };
  await authenticate('/auth/login', body);
});

$('#register-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = {
    username: $('#register-username').value.trim(),
    email: $('#register-email').value.trim(),
    password: $('#register-password').value,
  };
  await authenticate('/auth/register', body);
});

async function authenticate(path, body) {
  const err = $('#auth-error');
  setText(err, '');
  const buttons = document.querySelectorAll('#auth-view button[type=submit]');
  buttons.forEach((b) => (b.disabled = true));
  try {
    const res = await api('POST', path, body);
    saveSession({ token: res.token, user: res.user });
    $('#login-password').value = '';
    $('#register-password').value = '';
    history.pushState(null, '', '#/chat');
    route();
  } catch (e) {
    setText(err, e instanceof ApiError ? e.message : 'Something went wrong');
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

$('#logout-button').addEventListener('click', async () => {
  state.loggingOut = true;
  try {
    await api('POST', '/auth/logout');
  } catch {
    // revoked or unreachable: forget the token anyway
  }
  state.loggingOut = false;
  clearSession();
  stopApp();
  // a new history entry: going back lands on a chat URL, which shows the login page again
  history.pushState(null, '', '#/login');
  route();
  $('#login-identifier').focus();
});

// ------------------------------------------------------------------ app lifecycle

function startApp(session) {
  state.started = true;
  state.me = session.user;
  renderMe();
  socket = new ChatSocket({
    token: () => loadSession()?.token ?? null,
    syncPoints: () => {
      const points = {};
      for (const r of state.rooms.values()) points[r.id] = r.seq || 0;
      return points;
    },
    onFrame,
    onState: renderConnState,
    onAuthFailed: async () => {
      // Is the token still good (a transient failure) or revoked (log out)?
      try {
        await api('GET', '/auth/me');
      } catch {
        /* 401 → the unauthorized handler logs out */
      }
    },
  });
  void (async () => {
    try {
      const me = await api('GET', '/auth/me');
      state.me = me;
      saveSession({ token: loadSession().token, user: me });
      renderMe();
    } catch {
      /* shown elsewhere */
    }
    await loadRooms();
    if (!state.started) return;
    socket.start();
    const m = /^#\/room\/([0-9a-f-]{36})$/.exec(location.hash);
    if (m && state.rooms.has(m[1])) openRoom(m[1]);
  })();
}

function stopApp() {
  state.started = false;
  if (socket) socket.stop();
  socket = null;
  state.rooms.clear();
  state.history.clear();
  state.online.clear();
  state.typing.clear();
  state.pending.clear();
  state.openId = null;
  state.replyTo = null;
  state.editing = null;
  state.connectedOnce = false;
  clear($('#room-list'));
  clear($('#message-list'));
  clear($('#dm-search-results'));
  $('#dm-search').value = '';
  $('#chat-pane').hidden = true;
  $('#chat-empty').hidden = false;
  const dlg = $('#settings-dialog');
  if (dlg.open) dlg.close();
}

function renderMe() {
  setText($('#me-name'), state.me ? state.me.username : '');
}

function renderConnState(s, detail) {
  const node = $('#conn-state');
  node.dataset.state = s;
  if (s === 'online') {
    setText(node, 'Connected');
    if (state.connectedOnce) void loadRooms(); // catch up on rooms created or joined meanwhile
    state.connectedOnce = true;
    if (state.openId) void markRead(state.openId);
  } else if (s === 'connecting') {
    setText(node, 'Connecting…');
  } else {
    setText(node, `Offline, ${detail || 'reconnecting'}`);
  }
}

// ------------------------------------------------------------------ rooms

function roomFromDto(dto) {
  const prev = state.rooms.get(dto.id);
  const r = prev || { id: dto.id, other: null, last: null, unread: 0, seq: 0, role: null, memberCount: null };
  r.name = dto.name;
  r.type = dto.type;
  r.description = dto.description || '';
  r.created_by = dto.created_by;
  r.seq = Math.max(r.seq || 0, Number(dto.last_seq) || 0);
  r.activity = Math.max(r.activity || 0, Date.parse(dto.last_message_at || dto.updated_at || dto.created_at) || 0);
  if (Array.isArray(dto.members)) applyMembers(r, dto.members);
  state.rooms.set(r.id, r);
  return r;
}

function applyMembers(r, members) {
  r.memberCount = members.length;
  const mine = members.find((m) => m.user_id === state.me.id);
  r.role = mine ? mine.role : null;
  if (r.type === 'direct') {
    const other = members.find((m) => m.user_id !== state.me.id);
    if (other && other.user) {
      r.other = other.user;
      if (other.user.is_online) state.online.add(other.user.id);
    }
  }
}

async function loadRooms() {
  let mine;
  let dms;
  try {
    [mine, dms] = await Promise.all([api('GET', '/rooms/me'), api('GET', '/dm')]);
  } catch {
    return;
  }
  if (!state.started) return;
  const ids = new Set();
  for (const dto of mine.data) ids.add(roomFromDto(dto).id);
  for (const id of [...state.rooms.keys()]) if (!ids.has(id)) state.rooms.delete(id);
  for (const d of dms.data) {
    const r = state.rooms.get(d.room.id);
    if (!r) continue;
    r.other = d.other_user;
    if (d.other_user.is_online) state.online.add(d.other_user.id);
    else state.online.delete(d.other_user.id);
    if (d.last_message) setLast(r, d.last_message);
    if (state.openId !== r.id) r.unread = d.unread_count;
  }
  renderRoomList();
  // details not in the lists: the other user of message-less DMs, previews of group rooms
  const jobs = [];
  for (const r of state.rooms.values()) {
    if (r.type === 'direct' && !r.other) jobs.push(loadRoomDetail(r.id));
    else if (r.type !== 'direct' && !r.last && !r.previewLoaded && jobs.length < 20) {
      r.previewLoaded = true;
      jobs.push(
        api('GET', `/rooms/${r.id}/messages?page=1&limit=1`)
          .then((p) => {
            if (p.data.length) setLast(r, p.data[p.data.length - 1]);
          })
          .catch(() => {}),
      );
    }
  }
  if (jobs.length) {
    await Promise.all(jobs);
    renderRoomList();
  }
}

async function loadRoomDetail(id) {
  try {
    const dto = await api('GET', `/rooms/${id}`);
    const r = roomFromDto(dto);
    if (r.type === 'direct' && r.other) {
      try {
        const u = await api('GET', `/users/${r.other.id}`);
        r.other = u;
        if (u.is_online) state.online.add(u.id);
        else state.online.delete(u.id);
      } catch {
        /* keep what we have */
      }
    }
    return r;
  } catch {
    return null;
  }
}

function setLast(r, m) {
  if (!r.last || (m.seq ?? 0) >= (r.last.seq ?? 0) || r.last.id === m.id) r.last = m;
  r.activity = Math.max(r.activity || 0, Date.parse(m.created_at) || 0);
}

function roomTitle(r) {
  if (r.type === 'direct') return r.other ? r.other.username : 'Direct message';
  return r.name;
}

function previewText(m) {
  if (!m) return '';
  if (m.is_deleted) return 'Message deleted';
  const who = m.sender_id === state.me.id ? 'You: ' : m.sender && m.sender.username ? `${m.sender.username}: ` : '';
  if (m.type === 'image') return `${who}Photo: ${m.file_name || 'image'}`;
  if (m.type === 'audio') return `${who}Audio: ${m.file_name || 'recording'}`;
  if (m.type === 'file') return `${who}File: ${m.file_name || 'file'}`;
  return who + m.content;
}

function renderRoomList() {
  const list = $('#room-list');
  const rooms = [...state.rooms.values()].sort((a, b) => (b.activity || 0) - (a.activity || 0));
  const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.roomId : null;
  clear(list);
  if (rooms.length === 0) {
    list.append(el('li', { className: 'room-empty' }, 'No conversations yet.'));
  }
  for (const r of rooms) {
    const online = r.type === 'direct' && r.other && state.online.has(r.other.id);
    const btn = el('button', {
      type: 'button',
      className: 'room-item',
      dataset: { roomId: r.id, testid: 'room-item' },
      'aria-current': r.id === state.openId ? 'true' : 'false',
    });
    const avatar = avatarNode(r.type === 'direct' ? r.other : null, roomTitle(r), r.type);
    if (r.type === 'direct') {
      avatar.append(
        el('span', {
          className: `dot ${online ? 'online' : 'offline'}`,
          dataset: { testid: 'online-dot', online: String(!!online) },
        }, el('span', { className: 'sr-only' }, online ? ' online' : ' offline')),
      );
    }
    const name = el('span', { className: 'room-name', dataset: { testid: 'room-name' } }, roomTitle(r));
    if (r.type === 'private') name.append(el('span', { className: 'tag' }, 'private'));
    const text = el('span', { className: 'room-text' }, name,
      el('span', { className: 'room-preview', dataset: { testid: 'room-preview' } }, previewText(r.last)));
    btn.append(avatar, text);
    if (r.unread > 0) {
      btn.append(el('span', { className: 'badge', dataset: { testid: 'unread-badge' } },
        String(r.unread > 99 ? '99+' : r.unread), el('span', { className: 'sr-only' }, ' unread')));
    }
    btn.addEventListener('click', () => {
      history.pushState(null, '', `#/room/${r.id}`);
      openRoom(r.id);
    });
    list.append(el('li', {}, btn));
  }
  if (focusedId) {
    const again = list.querySelector(`[data-room-id="${focusedId}"]`);
    if (again) again.focus();
  }
  const open = state.openId && state.rooms.get(state.openId);
  if (open) renderChatHeader(open);
}

function avatarNode(user, label, type) {
  const wrap = el('span', { className: 'avatar', 'aria-hidden': 'false' });
  if (user && isUploadUrl(user.avatar)) {
    wrap.append(el('img', { src: user.avatar, alt: '', width: 36, height: 36 }));
  } else {
    wrap.append(el('span', { className: 'initials', 'aria-hidden': 'true' }, type === 'direct' || !type ? initials(label) : '#'));
  }
  return wrap;
}

// ------------------------------------------------------------------ open a conversation

async function openRoom(id) {
  const r = state.rooms.get(id);
  if (!r) return;
  // no join_room/leave_room frames: delivery follows membership, and those frames would tell
  // the other members that someone joined or left when they only switched conversations
  state.openId = id;
  state.replyTo = null;
  state.editing = null;
  renderReplyBar();
  resetComposer();
  r.unread = 0;
  $('#chat-empty').hidden = true;
  $('#chat-pane').hidden = false;
  $('#add-member-form').hidden = true;
  $('#add-member-button').setAttribute('aria-expanded', 'false');
  setText($('#composer-error'), '');
  closeSidebarOnNarrow();
  renderRoomList();
  renderChatHeader(r);
  renderTyping();
  clear($('#message-list'));
  const h = state.history.get(id);
  if (h && h.loaded) {
    renderAllMessages(id);
  } else {
    await loadHistory(id, 1);
  }
  if (state.openId !== id) return;
  scrollToBottom();
  void markRead(id);
  if (r.type !== 'direct' || !r.other) {
    const d = await loadRoomDetail(id);
    if (d && state.openId === id) renderChatHeader(d);
  }
}

function renderChatHeader(r) {
  setText($('#chat-title'), roomTitle(r));
  document.title = `${roomTitle(r)} · ChatApp`;
  let sub = '';
  if (r.type === 'direct') {
    const on = r.other && state.online.has(r.other.id);
    sub = on ? 'online' : 'offline';
    if (r.other && r.other.status) sub += ` · ${r.other.status}`;
  } else {
    sub = `${r.type === 'private' ? 'Private' : 'Public'} room`;
    if (r.memberCount) sub += ` · ${r.memberCount} member${r.memberCount === 1 ? '' : 's'}`;
    if (r.description) sub += ` · ${r.description}`;
  }
  setText($('#chat-subtitle'), sub);
  $('#add-member-button').hidden = !(r.type === 'private' && r.role === 'admin');
  $('#leave-room-button').hidden = r.type === 'direct';
}

async function loadHistory(id, page) {
  let res;
  try {
    res = await api('GET', `/rooms/${id}/messages?page=${page}&limit=${HISTORY_PAGE}`);
  } catch (e) {
    setText($('#composer-error'), e.message);
    return;
  }
  let h = state.history.get(id);
  if (!h || page === 1) {
    h = { byId: h && page !== 1 ? h.byId : new Map(), page: 0, totalPages: 0, partnerReadAt: null, loaded: false };
    state.history.set(id, h);
  }
  h.page = Math.max(h.page, page);
  h.totalPages = res.total_pages;
  h.loaded = true;
  if (res.partner_read_at) h.partnerReadAt = maxTime(h.partnerReadAt, res.partner_read_at);
  const r = state.rooms.get(id);
  for (const m of res.data) {
    const old = h.byId.get(m.id);
    if (!old || (m.version ?? 0) >= (old.version ?? 0)) h.byId.set(m.id, m);
    if (r) r.seq = Math.max(r.seq, m.version ?? m.seq ?? 0);
  }
  if (r && res.data.length && page === 1) setLast(r, res.data[res.data.length - 1]);
  if (state.openId === id) {
    if (page === 1) renderAllMessages(id);
    else {
      const scroller = $('#message-scroller');
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      for (const m of res.data) upsertMessageNode(m);
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
    }
    $('#load-older').hidden = h.page >= h.totalPages;
  }
}

$('#load-older').addEventListener('click', async () => {
  const id = state.openId;
  const h = id && state.history.get(id);
  if (!h) return;
  await loadHistory(id, h.page + 1);
});

function maxTime(a, b) {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/** roomId → pending timer: bursts of incoming messages mark the room read once */
const readTimers = new Map();
async function markRead(id) {
  if (document.visibilityState === 'hidden') return;
  clearTimeout(readTimers.get(id));
  readTimers.set(id, setTimeout(() => {
    readTimers.delete(id);
    api('POST', `/rooms/${id}/read`).catch(() => {});
  }, 150));
}

// ------------------------------------------------------------------ messages

function renderAllMessages(id) {
  const list = $('#message-list');
  clear(list);
  const h = state.history.get(id);
  if (!h) return;
  const msgs = [...h.byId.values()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  const frag = document.createDocumentFragment();
  for (const m of msgs) frag.append(messageNode(m));
  list.append(frag);
  for (const [cid, p] of state.pending) if (p.roomId === id) list.append(pendingNode(cid, p));
  $('#load-older').hidden = h.page >= h.totalPages;
  scrollToBottom();
}

function nearBottom() {
  const s = $('#message-scroller');
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

function scrollToBottom() {
  const s = $('#message-scroller');
  s.scrollTop = s.scrollHeight;
}

function upsertMessageNode(m) {
  const list = $('#message-list');
  const stick = nearBottom();
  const node = messageNode(m);
  const existing = list.querySelector(`li[data-message-id="${m.id}"]`);
  if (existing) {
    existing.replaceWith(node);
    return;
  }
  if (m.client_msg_id) {
    const p = list.querySelector(`li[data-client-id="${m.client_msg_id}"]`);
    if (p) p.remove();
  }
  let before = null;
  for (const li of list.children) {
    if (li.dataset.clientId || Number(li.dataset.seq) > (m.seq ?? 0)) {
      before = li;
      break;
    }
  }
  list.insertBefore(node, before);
  if (stick) scrollToBottom();
}

function canModify(m) {
  if (m.sender_id !== state.me.id || m.is_deleted) return false;
  if (Date.now() - Date.parse(m.created_at) > EDIT_WINDOW_MS) return false;
  const r = state.rooms.get(m.room_id);
  const h = state.history.get(m.room_id);
  if (r && r.type === 'direct' && h && h.partnerReadAt && Date.parse(h.partnerReadAt) >= Date.parse(m.created_at)) return false;
  return true;
}

function isRead(m) {
  const h = state.history.get(m.room_id);
  return !!(h && h.partnerReadAt && Date.parse(h.partnerReadAt) >= Date.parse(m.created_at));
}

function messageNode(m) {
  const mine = m.sender_id === state.me.id;
  const r = state.rooms.get(m.room_id);
  const li = el('li', {
    className: `msg${mine ? ' mine' : ''}${m.is_deleted ? ' deleted' : ''}`,
    dataset: { testid: 'message', messageId: m.id, seq: String(m.seq ?? 0), mine: String(mine) },
  });
  const author = mine ? 'You' : (m.sender && m.sender.username) || 'Unknown';
  const meta = el('div', { className: 'msg-meta' },
    el('span', { className: 'msg-author', dataset: { testid: 'message-author' } }, author),
    el('time', { dateTime: m.created_at, title: `${fmtDay(m.created_at)} ${fmtTime(m.created_at)}` }, fmtTime(m.created_at)));
  if (m.is_edited && !m.is_deleted) meta.append(el('span', { className: 'edited', dataset: { testid: 'edited' } }, '(edited)'));
  li.append(meta);

  if (m.reply_to_id && !m.is_deleted) {
    const orig = m.reply_to || state.history.get(m.room_id)?.byId.get(m.reply_to_id);
    const q = el('blockquote', { className: 'reply-quote', dataset: { testid: 'reply-quote' } });
    if (orig) {
      q.append(el('span', { className: 'quote-author' }, orig.sender_id === state.me.id ? 'You' : orig.sender?.username || ''),
        el('span', { className: 'quote-text' }, orig.is_deleted ? 'Message deleted' : orig.content || orig.file_name || ''));
    } else {
      q.append(el('span', { className: 'quote-text' }, 'Original message'));
    }
    li.append(q);
  }

  if (m.is_deleted) {
    li.append(el('p', { className: 'msg-body', dataset: { testid: 'message-text' } }, 'This message was deleted'));
  } else {
    if (m.type !== 'text' && m.file_url) li.append(attachmentNode(m));
    if (m.content) li.append(el('p', { className: 'msg-body', dataset: { testid: 'message-text' } }, m.content));
  }

  const actions = el('div', { className: 'msg-actions' });
  if (!m.is_deleted) {
    const reply = el('button', { type: 'button', className: 'link-btn', dataset: { testid: 'reply-button' } }, 'Reply');
    reply.setAttribute('aria-label', `Reply to ${author}`);
    reply.addEventListener('click', () => startReply(m));
    actions.append(reply);
  }
  if (canModify(m)) {
    if (m.type === 'text') {
      const edit = el('button', { type: 'button', className: 'link-btn', dataset: { testid: 'edit-button' } }, 'Edit');
      edit.addEventListener('click', () => startEdit(m));
      actions.append(edit);
    }
    const del = el('button', { type: 'button', className: 'link-btn danger', dataset: { testid: 'delete-button' } }, 'Delete');
    del.addEventListener('click', () => deleteMessage(m));
    actions.append(del);
  }
  if (mine && r && r.type === 'direct' && !m.is_deleted) {
    const read = isRead(m);
    actions.append(el('span', {
      className: `tick${read ? ' read' : ''}`,
      dataset: { testid: 'read-tick', read: String(read) },
      title: read ? 'Read' : 'Sent',
    }, read ? '✓✓' : '✓', el('span', { className: 'sr-only' }, read ? ' read' : ' sent')));
  }
  li.append(actions);
  return li;
}

function attachmentNode(m) {
  const name = m.file_name || 'file';
  if (!isUploadUrl(m.file_url)) return el('p', { className: 'msg-body' }, name);
  if (m.type === 'image') {
    const img = el('img', { src: m.file_url, alt: name, className: 'msg-image', dataset: { testid: 'message-image' } });
    return el('a', { href: m.file_url, target: '_blank', rel: 'noopener', className: 'image-link' }, img);
  }
  if (m.type === 'audio') {
    const audio = el('audio', { controls: true, preload: 'metadata', src: m.file_url, dataset: { testid: 'message-audio' } });
    audio.setAttribute('aria-label', name);
    return el('div', { className: 'audio' }, audio, el('span', { className: 'file-name' }, name));
  }
  return el('a', { href: m.file_url, download: name, className: 'file-link', dataset: { testid: 'file-link' } },
    el('span', { className: 'file-kind', 'aria-hidden': 'true' }, fileKind(name)), name,
    m.file_size ? el('span', { className: 'file-size' }, ` (${fmtSize(m.file_size)})`) : '');
}

function fileKind(name) {
  const m = /\.([a-z0-9]{1,5})$/i.exec(name);
  return m ? m[1].toUpperCase() : 'FILE';
}

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function pendingNode(cid, p) {
  return el('li', { className: 'msg mine pending', dataset: { testid: 'pending-message', clientId: cid } },
    el('div', { className: 'msg-meta' }, el('span', { className: 'msg-author' }, 'You'), el('span', {}, 'Sending…')),
    el('p', { className: 'msg-body' }, p.content || p.file_name || ''));
}

// refresh edit/delete availability as the 3-minute window closes
setInterval(() => {
  if (!state.openId) return;
  const h = state.history.get(state.openId);
  if (!h) return;
  for (const li of $('#message-list').querySelectorAll('li[data-mine="true"]')) {
    const m = h.byId.get(li.dataset.messageId);
    if (m && !canModify(m) && li.querySelector('[data-testid=delete-button]')) li.replaceWith(messageNode(m));
  }
}, 15000);

function storeMessage(m) {
  let h = state.history.get(m.room_id);
  if (!h) return false;
  const old = h.byId.get(m.id);
  if (old && (old.version ?? 0) > (m.version ?? 0)) return false;
  if (!m.reply_to && old && old.reply_to) m.reply_to = old.reply_to;
  h.byId.set(m.id, m);
  return true;
}

// ------------------------------------------------------------------ realtime frames

function onFrame({ type, payload: p }) {
  switch (type) {
    case 'new_message':
      return onNewMessage(p);
    case 'edit_message':
      return onEdited(p);
    case 'delete_message':
      return onDeleted(p);
    case 'message_ack': {
      const li = $('#message-list').querySelector(`li[data-client-id="${p.client_msg_id}"]`);
      state.pending.delete(p.client_msg_id);
      if (li && $('#message-list').querySelector(`li[data-message-id="${p.id}"]`)) li.remove();
      return;
    }
    case 'messages_read':
      return onRead(p);
    case 'typing':
    case 'stop_typing':
      return onTyping(type, p);
    case 'user_online':
      if (p.user_id && p.user_id !== state.me.id) setOnline(p.user_id, true);
      return;
    case 'user_offline':
      if (p.user_id && p.user_id !== state.me.id) setOnline(p.user_id, false);
      return;
    case 'dm_created':
      return void loadRooms();
    case 'user_joined':
      if (p.message === 'Joined room successfully') return;
      if (!p.user_id || p.user_id === state.me.id) return void loadRooms();
      if (p.room_id === state.openId) void loadRoomDetail(p.room_id).then((r) => r && state.openId === r.id && renderChatHeader(r));
      return;
    case 'user_left':
      if (p.user_id === state.me.id) return removeRoom(p.room_id);
      if (p.room_id === state.openId) void loadRoomDetail(p.room_id).then((r) => r && state.openId === r.id && renderChatHeader(r));
      return;
    case 'room_deleted':
      return removeRoom(p.room_id);
    case 'profile_updated':
      return onProfile(p);
    case 'resync_required':
      return onResync(p);
    case 'sync_done': {
      const r = state.rooms.get(p.room_id);
      if (r) r.seq = Math.max(r.seq, Number(p.seq) || 0);
      return;
    }
    case 'error':
      return onError(p);
    default:
  }
}

function onNewMessage(m) {
  let r = state.rooms.get(m.room_id);
  if (!r) {
    void loadRooms();
    return;
  }
  r.seq = Math.max(r.seq, m.version ?? m.seq ?? 0);
  const h = state.history.get(m.room_id);
  const known = h && h.byId.has(m.id);
  storeMessage(m);
  if (m.client_msg_id) state.pending.delete(m.client_msg_id);
  setLast(r, m);
  const fromOther = m.sender_id !== state.me.id;
  if (fromOther) clearTyping(m.room_id, m.sender_id);
  if (state.openId === m.room_id) {
    if (h) upsertMessageNode(m);
    if (fromOther && !known) void markRead(m.room_id);
  } else if (fromOther && !known) {
    r.unread += 1;
  }
  renderRoomList();
}

function onEdited(m) {
  const r = state.rooms.get(m.room_id);
  if (!r) return;
  r.seq = Math.max(r.seq, m.version ?? 0);
  if (storeMessage(m) && state.openId === m.room_id) upsertMessageNode(m);
  if (r.last && r.last.id === m.id) {
    r.last = m;
    renderRoomList();
  }
}

function onDeleted(p) {
  const r = state.rooms.get(p.room_id);
  if (!r) return;
  r.seq = Math.max(r.seq, p.version ?? p.seq ?? 0);
  const h = state.history.get(p.room_id);
  const old = h && h.byId.get(p.id);
  if (old) {
    const m = { ...old, content: '', type: 'text', is_deleted: true, version: p.version ?? old.version };
    delete m.file_url;
    delete m.file_name;
    delete m.file_size;
    h.byId.set(m.id, m);
    if (state.openId === p.room_id) upsertMessageNode(m);
    // replies quoting it now show "Message deleted"
    for (const other of h.byId.values()) {
      if (other.reply_to_id === p.id && other.reply_to) {
        other.reply_to = { ...other.reply_to, is_deleted: true, content: '' };
        if (state.openId === p.room_id) upsertMessageNode(other);
      }
    }
  }
  if (r.last && r.last.id === p.id) {
    r.last = { ...r.last, is_deleted: true, content: '' };
    renderRoomList();
  }
}

function onRead(p) {
  if (p.user_id === state.me.id) return;
  const r = state.rooms.get(p.room_id);
  const h = state.history.get(p.room_id);
  if (!r || !h || r.type !== 'direct') return;
  h.partnerReadAt = maxTime(h.partnerReadAt, p.read_at || new Date().toISOString());
  if (state.openId === p.room_id) {
    for (const li of $('#message-list').querySelectorAll('li[data-mine="true"]')) {
      const m = h.byId.get(li.dataset.messageId);
      if (m) li.replaceWith(messageNode(m));
    }
  }
}

function onTyping(type, p) {
  if (!p.user_id || p.user_id === state.me.id) return;
  if (type === 'stop_typing') return clearTyping(p.room_id, p.user_id);
  let m = state.typing.get(p.room_id);
  if (!m) state.typing.set(p.room_id, (m = new Map()));
  const prev = m.get(p.user_id);
  if (prev) clearTimeout(prev.timer);
  m.set(p.user_id, { username: p.username, timer: setTimeout(() => clearTyping(p.room_id, p.user_id), 6000) });
  if (p.room_id === state.openId) renderTyping();
}

function clearTyping(roomId, userId) {
  const m = state.typing.get(roomId);
  if (!m || !m.has(userId)) return;
  clearTimeout(m.get(userId).timer);
  m.delete(userId);
  if (roomId === state.openId) renderTyping();
}

function renderTyping() {
  const m = state.typing.get(state.openId);
  const names = m ? [...m.values()].map((t) => t.username) : [];
  let text = '';
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length > 1) text = `${names.slice(0, 2).join(' and ')}${names.length > 2 ? ' and others' : ''} are typing…`;
  setText($('#typing-indicator'), text);
}

function setOnline(userId, on) {
  if (on) state.online.add(userId);
  else state.online.delete(userId);
  renderRoomList();
}

function onProfile(u) {
  for (const r of state.rooms.values()) {
    if (r.other && r.other.id === u.id) r.other = { ...r.other, ...u };
  }
  renderRoomList();
}

function removeRoom(id) {
  state.rooms.delete(id);
  state.history.delete(id);
  if (state.openId === id) {
    state.openId = null;
    $('#chat-pane').hidden = true;
    $('#chat-empty').hidden = false;
    history.replaceState(null, '', '#/chat');
  }
  renderRoomList();
}

function onResync(p) {
  const r = state.rooms.get(p.room_id);
  if (!r) return;
  r.seq = Number(p.seq) || r.seq;
  state.history.delete(p.room_id);
  if (state.openId === p.room_id) void loadHistory(p.room_id, 1);
}

let lastSendAt = 0;
function onError(p) {
  const text = p && p.error ? String(p.error) : 'Error';
  if (text === 'Unknown event type') return;
  setText($('#composer-error'), text);
  // an error right after a send refuses that send: retrying it would fail the same way
  if (Date.now() - lastSendAt < 3000 && socket && !/rate limit|temporarily/i.test(text)) {
    const ids = [...socket.outbox.keys()];
    const last = ids[ids.length - 1];
    if (last) {
      socket.drop(last);
      state.pending.delete(last);
      const li = $('#message-list').querySelector(`li[data-client-id="${last}"]`);
      if (li) li.remove();
    }
  }
}

// ------------------------------------------------------------------ composer

const input = $('#composer-input');

function resetComposer() {
  input.value = '';
  $('#send-button').textContent = 'Send';
  autosize();
}

function autosize() {
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

let typingSentAt = 0;
let stopTypingTimer = null;
input.addEventListener('input', () => {
  autosize();
  if (!state.openId || !socket || state.editing) return;
  const now = Date.now();
  if (now - typingSentAt > 2000 && input.value.trim()) {
    typingSentAt = now;
    socket.sendRaw('typing', { room_id: state.openId });
  }
  clearTimeout(stopTypingTimer);
  stopTypingTimer = setTimeout(stopTyping, 1500);
});

function stopTyping() {
  clearTimeout(stopTypingTimer);
  if (typingSentAt && state.openId && socket) socket.sendRaw('stop_typing', { room_id: state.openId });
  typingSentAt = 0;
}

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('#composer').requestSubmit();
  } else if (e.key === 'Escape') {
    if (state.editing) {
      state.editing = null;
      resetComposer();
    }
    if (state.replyTo) {
      state.replyTo = null;
      renderReplyBar();
    }
  }
});

$('#composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const roomId = state.openId;
  if (!roomId) return;
  const content = input.value.trim();
  setText($('#composer-error'), '');
  if (state.editing) {
    const m = state.editing;
    if (!content) return setText($('#composer-error'), 'A message cannot be empty.');
    try {
      const updated = await api('PATCH', `/messages/${m.id}`, { content });
      onEdited(updated);
      state.editing = null;
      resetComposer();
    } catch (err) {
      setText($('#composer-error'), err.message);
    }
    return;
  }
  if (!content) return;
  if ([...content].length > 2000) return setText($('#composer-error'), 'Message content must be 1-2000 characters');
  const payload = { room_id: roomId, content, type: 'text' };
  if (state.replyTo) payload.reply_to_id = state.replyTo.id;
  send(payload);
  state.replyTo = null;
  renderReplyBar();
  resetComposer();
  stopTyping();
});

function send(payload) {
  lastSendAt = Date.now();
  const cid = socket.sendMessage(payload);
  const p = { roomId: payload.room_id, content: payload.content, file_name: payload.file_name };
  state.pending.set(cid, p);
  if (state.openId === payload.room_id) {
    $('#message-list').append(pendingNode(cid, p));
    scrollToBottom();
  }
}

function startReply(m) {
  state.replyTo = m;
  state.editing = null;
  renderReplyBar();
  input.focus();
}

function renderReplyBar() {
  const bar = $('#reply-bar');
  const m = state.replyTo;
  bar.hidden = !m;
  if (m) {
    const who = m.sender_id === state.me.id ? 'yourself' : m.sender?.username || '';
    setText($('#reply-bar-text'), `Replying to ${who}: ${(m.content || m.file_name || '').slice(0, 80)}`);
  }
}

$('#reply-cancel').addEventListener('click', () => {
  state.replyTo = null;
  renderReplyBar();
  input.focus();
});

function startEdit(m) {
  state.editing = m;
  state.replyTo = null;
  renderReplyBar();
  input.value = m.content;
  $('#send-button').textContent = 'Save';
  autosize();
  input.focus();
}

async function deleteMessage(m) {
  setText($('#composer-error'), '');
  try {
    await api('DELETE', `/messages/${m.id}`);
  } catch (err) {
    setText($('#composer-error'), err.message);
  }
}

$('#file-input').addEventListener('change', async () => {
  const fileInput = $('#file-input');
  const file = fileInput.files && fileInput.files[0];
  fileInput.value = '';
  if (!file || !state.openId) return;
  const roomId = state.openId;
  setText($('#composer-error'), '');
  if (file.size > 4 * 1024 * 1024) return setText($('#composer-error'), 'File too large. Maximum size is 4 MB');
  const fd = new FormData();
  fd.append('file', file, file.name);
  const status = $('#composer-error');
  status.classList.add('ok');
  setText(status, `Uploading ${file.name}…`);
  try {
    const up = await api('POST', '/upload', fd);
    status.classList.remove('ok');
    setText(status, '');
    const type = up.is_image ? 'image' : up.is_audio ? 'audio' : 'file';
    const caption = input.value.trim();
    send({ room_id: roomId, type, content: caption, file_url: up.url, file_name: up.file_name, file_size: up.file_size });
    if (caption) resetComposer();
  } catch (err) {
    status.classList.remove('ok');
    setText(status, err.message);
  }
});

// ------------------------------------------------------------------ sidebar: DMs, rooms

function userSearch(inputEl, resultsEl, onPick) {
  let searchTimer = null;
  inputEl.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = inputEl.value.trim();
      clear(resultsEl);
      if (!q) return;
      try {
        const res = await api('GET', `/users/search?q=${encodeURIComponent(q)}`);
        if (inputEl.value.trim() !== q) return;
        clear(resultsEl);
        if (res.data.length === 0) resultsEl.append(el('li', { className: 'hint' }, 'No users found.'));
        for (const u of res.data) {
          const b = el('button', { type: 'button', className: 'user-result', dataset: { testid: 'user-result', userId: u.id } },
            avatarNode(u, u.username, 'direct'), el('span', {}, u.username),
            el('span', { className: `dot ${u.is_online ? 'online' : 'offline'}` }, el('span', { className: 'sr-only' }, u.is_online ? ' online' : ' offline')));
          b.addEventListener('click', () => onPick(u));
          resultsEl.append(el('li', {}, b));
        }
      } catch (e) {
        clear(resultsEl);
        resultsEl.append(el('li', { className: 'error' }, e.message));
      }
    }, 250);
  });
  inputEl.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const first = resultsEl.querySelector('button');
    if (first) first.click();
  });
}

userSearch($('#dm-search'), $('#dm-search-results'), async (u) => {
  try {
    const room = await api('POST', '/dm', { recipient_id: u.id });
    const r = roomFromDto(room);
    if (!r.other) r.other = u;
    if (u.is_online) state.online.add(u.id);
    $('#dm-search').value = '';
    clear($('#dm-search-results'));
    history.pushState(null, '', `#/room/${r.id}`);
    await openRoom(r.id);
    input.focus();
  } catch (e) {
    clear($('#dm-search-results'));
    $('#dm-search-results').append(el('li', { className: 'error' }, e.message));
  }
});

function togglePanel(button, panel) {
  const open = panel.hidden;
  panel.hidden = !open;
  button.setAttribute('aria-expanded', String(open));
  return open;
}

$('#browse-rooms-button').addEventListener('click', async () => {
  if (!togglePanel($('#browse-rooms-button'), $('#rooms-panel'))) return;
  await renderPublicRooms();
});

async function renderPublicRooms() {
  const list = $('#public-room-list');
  setText($('#rooms-panel-error'), '');
  try {
    const res = await api('GET', '/rooms?page=1&limit=50');
    clear(list);
    if (res.data.length === 0) list.append(el('li', { className: 'hint' }, 'No public rooms yet.'));
    for (const room of res.data) {
      const member = state.rooms.has(room.id);
      const b = el('button', { type: 'button', dataset: { testid: 'join-room', roomId: room.id } }, member ? 'Open' : 'Join');
      b.setAttribute('aria-label', `${member ? 'Open' : 'Join'} ${room.name}`);
      b.addEventListener('click', async () => {
        try {
          if (!state.rooms.has(room.id)) {
            await api('POST', `/rooms/${room.id}/join`);
            roomFromDto(room);
            renderRoomList();
          }
          togglePanel($('#browse-rooms-button'), $('#rooms-panel'));
          history.pushState(null, '', `#/room/${room.id}`);
          await openRoom(room.id);
        } catch (e) {
          setText($('#rooms-panel-error'), e.message);
        }
      });
      list.append(el('li', { className: 'public-room', dataset: { testid: 'public-room' } },
        el('span', { className: 'room-text' }, el('span', { className: 'room-name' }, room.name),
          el('span', { className: 'room-preview' }, room.description || '')), b));
    }
  } catch (e) {
    setText($('#rooms-panel-error'), e.message);
  }
}

$('#create-room-button').addEventListener('click', () => {
  if (togglePanel($('#create-room-button'), $('#create-room-form'))) $('#room-name').focus();
});

$('#create-room-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  setText($('#create-room-error'), '');
  const type = document.querySelector('input[name=room-type]:checked').value;
  try {
    const room = await api('POST', '/rooms', { name: $('#room-name').value.trim(), description: $('#room-description').value.trim(), type });
    const r = roomFromDto(room);
    $('#room-name').value = '';
    $('#room-description').value = '';
    togglePanel($('#create-room-button'), $('#create-room-form'));
    renderRoomList();
    history.pushState(null, '', `#/room/${r.id}`);
    await openRoom(r.id);
  } catch (err) {
    setText($('#create-room-error'), err.message);
  }
});

$('#add-member-button').addEventListener('click', () => {
  if (togglePanel($('#add-member-button'), $('#add-member-form'))) $('#add-member-search').focus();
});

userSearch($('#add-member-search'), $('#add-member-results'), async (u) => {
  const id = state.openId;
  try {
    await api('POST', `/rooms/${id}/members`, { user_id: u.id });
    setText($('#add-member-status'), `${u.username} was added.`);
    $('#add-member-search').value = '';
    clear($('#add-member-results'));
    const r = await loadRoomDetail(id);
    if (r && state.openId === id) renderChatHeader(r);
  } catch (e) {
    setText($('#add-member-status'), e.message);
  }
});

$('#leave-room-button').addEventListener('click', async () => {
  const id = state.openId;
  if (!id) return;
  try {
    await api('POST', `/rooms/${id}/leave`);
    removeRoom(id);
  } catch (e) {
    setText($('#composer-error'), e.message);
  }
});

// phone width: the sidebar is a drawer
$('#sidebar-toggle').addEventListener('click', () => {
  const open = !document.body.classList.contains('sidebar-open');
  document.body.classList.toggle('sidebar-open', open);
  $('#sidebar-toggle').setAttribute('aria-expanded', String(open));
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.classList.contains('sidebar-open')) {
    closeSidebarOnNarrow();
    $('#sidebar-toggle').focus();
  }
});
function closeSidebarOnNarrow() {
  document.body.classList.remove('sidebar-open');
  $('#sidebar-toggle').setAttribute('aria-expanded', 'false');
}

// ------------------------------------------------------------------ settings

const dialog = $('#settings-dialog');
$('#settings-button').addEventListener('click', () => {
  $('#status-input').value = state.me?.status || '';
  $('#username-input').value = state.me?.username || '';
  $('#email-input').value = state.me?.email || '';
  renderAvatarPreview();
  for (const p of dialog.querySelectorAll('.error')) setText(p, '');
  dialog.showModal();
});
$('#settings-close').addEventListener('click', () => dialog.close());
dialog.addEventListener('close', () => $('#settings-button').focus());

function renderAvatarPreview() {
  const img = $('#avatar-preview');
  if (state.me && isUploadUrl(state.me.avatar)) {
    img.src = state.me.avatar;
    img.hidden = false;
  } else {
    img.hidden = true;
  }
}

function settingsForm(id, handler) {
  const form = $(id);
  const out = form.querySelector('.error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setText(out, '');
    out.classList.remove('ok');
    try {
      const msg = await handler();
      out.classList.add('ok');
      setText(out, msg);
    } catch (err) {
      setText(out, err.message);
    }
  });
}

function updateMe(user) {
  state.me = user;
  const s = loadSession();
  if (s) saveSession({ token: s.token, user });
  renderMe();
  renderAvatarPreview();
}

settingsForm('#profile-form', async () => {
  updateMe(await api('PATCH', '/auth/me', { status: $('#status-input').value.trim() }));
  return 'Profile saved.';
});

$('#avatar-input').addEventListener('change', async () => {
  const file = $('#avatar-input').files[0];
  $('#avatar-input').value = '';
  const out = $('#profile-form').querySelector('.error');
  if (!file) return;
  try {
    const fd = new FormData();
    fd.append('file', file, file.name);
    const up = await api('POST', '/upload', fd);
    if (!up.is_image) throw new ApiError(400, 'The avatar must be an image');
    updateMe(await api('PATCH', '/auth/me', { avatar: up.url }));
    out.classList.add('ok');
    setText(out, 'Avatar updated.');
  } catch (err) {
    out.classList.remove('ok');
    setText(out, err.message);
  }
});

settingsForm('#username-form', async () => {
  updateMe(await api('PATCH', '/auth/username', { username: $('#username-input').value.trim() }));
  return 'Username changed.';
});

settingsForm('#email-form', async () => {
  updateMe(await api('PATCH', '/auth/email', { email: $('#email-input').value.trim(), current_password: $('#email-password').value }));
  $('#email-password').value = '';
  return 'Email changed.';
});

settingsForm('#password-form', async () => {
  const res = await api('PATCH', '/auth/password', {
    current_password: $('#current-password').value,
    new_password: $('#new-password').value,
  });
  $('#current-password').value = '';
  $('#new-password').value = '';
  return res.message || 'Password changed.';
});

$('#theme-toggle').addEventListener('change', () => {
  const theme = $('#theme-toggle').checked ? 'dark' : 'light';
  localStorage.setItem(THEME_KEY, theme);
  applyTheme(theme);
});

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && state.openId) void markRead(state.openId);
});

// ------------------------------------------------------------------ helpers

function setText(node, text) {
  node.textContent = text;
}

route();
