// Small DOM helpers. Text always goes in as text nodes; attributes are set one by one.

export const $ = (sel) => document.querySelector(sel);

/**
 * el('li', { className, dataset: {…}, 'aria-label': … }, child, 'text', …): children that are
 * strings become text nodes, so user content can never become markup.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'className') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'controls' || k === 'download' && v === true) node.setAttribute(k, '');
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === '') continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

export function fmtTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function fmtDay(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString();
}

export function initials(name) {
  const s = String(name || '?').replace(/[^\p{L}\p{N}]/gu, '');
  return (s.slice(0, 2) || '?').toUpperCase();
}

/** Only files uploaded to this server are shown inline or linked (no javascript:, no remote). */
export function isUploadUrl(url) {
  return typeof url === 'string' && url.startsWith('/static/uploads/') && !url.includes('..');
}
