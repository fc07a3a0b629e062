// Building DOM without HTML strings: every value becomes a text node or an attribute set with
// setAttribute, so a hostile exporter, feed or alert string is shown, never run.
export type Child = Node | string | number | null | undefined | false | Child[];

export interface Attrs {
  [name: string]: string | number | boolean | undefined | null | ((ev: Event) => void);
}

const SAFE_URL = /^(#|\/(?!\/)|https?:\/\/)/;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (typeof value === 'function') {
        if (!name.startsWith('on')) throw new Error(`h: ${name} is not an event`);
        el.addEventListener(name.slice(2).toLowerCase(), value);
        continue;
      }
      if (name.startsWith('on')) throw new Error(`h: ${name} takes a function`);
      const text = value === true ? '' : String(value);
      if ((name === 'href' || name === 'src' || name === 'action') && !SAFE_URL.test(text)) continue;
      el.setAttribute(name, text);
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export interface Column<T> {
  title: string;
  value: (row: T) => Child;
  num?: boolean; // right-aligned, tabular figures
  cls?: string;
}

export function table<T>(columns: Column<T>[], rows: T[], empty = 'nothing yet'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.title)))),
      h('tbody', null, rows.map((r) => h('tr', null, columns.map((c) => h('td', { class: c.num ? 'num' : c.cls }, c.value(r)))))),
    ),
  );
}

export function card(title: Child, ...body: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', null, title), ...body);
}

export function tile(label: string, value: Child, note?: Child, cls?: string): HTMLElement {
  return h('div', { class: `tile ${cls ?? ''}` }, h('div', { class: 'tile-value' }, value), h('div', { class: 'tile-label' }, label), note ? h('div', { class: 'tile-note' }, note) : null);
}

export function badge(text: string, cls: string): HTMLElement {
  return h('span', { class: `badge ${cls}` }, text);
}
