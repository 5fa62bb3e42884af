/**
 * Building the page without markup strings: every value becomes a text node
 * or an attribute set through the DOM, so no user-supplied string is ever
 * parsed as HTML. Event handler attributes are refused outright.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** An HTML element with attributes (`on…` take functions) and children (strings become text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, built the same way. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

function apply(el: Element, attrs: Attrs | null | undefined): void {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') {
      if (!name.startsWith('on')) throw new Error(`attribute ${name} cannot be a function`);
      el.addEventListener(name.slice(2).toLowerCase(), value);
      continue;
    }
    if (name.toLowerCase().startsWith('on')) throw new Error(`refusing event handler attribute ${name}`);
    if ((name === 'href' || name === 'src') && !safeUrl(String(value))) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(el: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Links inside the page (`#…`, relative) or to http(s) URLs; never `javascript:` or `data:`. */
export function safeUrl(url: string): boolean {
  if (url.startsWith('#')) return true;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Replaces `el`'s children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The page link to one flow. */
export function flowHref(id: string): string {
  return `#/flow?id=${encodeURIComponent(id)}`;
}

/** A link to a flow, showing its id. */
export function flowLink(id: string, text: string = id): HTMLAnchorElement {
  return h('a', { href: flowHref(id), class: 'mono', title: id }, text);
}

/** A status badge. */
export function badge(status: string): HTMLSpanElement {
  return h('span', { class: `badge status-${status.replace(/[^a-z]/g, '')}` }, status);
}

/** `2024-05-01 12:03:04` in local time. */
export function time(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `850 ms`, `4.2 s`, `3 min 4 s`, `2 h 5 min`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  if (abs < 3_600_000) return `${Math.floor(abs / 60_000)} min ${Math.round((abs % 60_000) / 1000)} s`;
  if (abs < 86_400_000)
    return `${Math.floor(abs / 3_600_000)} h ${Math.round((abs % 3_600_000) / 60_000)} min`;
  return `${Math.floor(abs / 86_400_000)} d ${Math.round((abs % 86_400_000) / 3_600_000)} h`;
}

/** `in 4.2 s` or `3 min 4 s ago`. */
export function relative(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined) return '';
  const d = ms - now;
  return d >= 0 ? `in ${duration(d)}` : `${duration(-d)} ago`;
}

/** A `<pre>` holding a value's text, noting when it was cut. */
export function valueBlock(value: { text: string; truncated: boolean; length: number } | undefined): Node {
  if (!value) return h('p', { class: 'muted' }, 'none');
  return h(
    'div',
    null,
    h('pre', { class: 'value' }, value.text),
    value.truncated
      ? h('p', { class: 'muted' }, `cut: ${value.length.toLocaleString()} characters in all`)
      : null,
  );
}

/** A titled section. */
export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', null, title), ...children);
}
