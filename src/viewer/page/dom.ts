/// <reference lib="dom" />

// A small element builder: the page's text (labels, details, state tables) is DOM, never canvas.

type Child = Node | string | number | null | undefined | false;

function nodes(children: readonly Child[]): (Node | string)[] {
  const out: (Node | string)[] = [];
  for (const c of children) if (c !== null && c !== undefined && c !== false) out.push(typeof c === 'object' ? c : String(c));
  return out;
}

/** Replaces an element's children (false, null and undefined are left out). */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...nodes(children));
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string>> | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs !== null) for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...nodes(children));
  return el;
}

/** A table with a header row; each row's cells get `data-field` from the column keys. */
export function table(id: string, columns: readonly (readonly [key: string, title: string])[], rows: readonly Readonly<Record<string, Child>>[], rowAttrs?: (i: number) => Record<string, string>): HTMLTableElement {
  return h(
    'table',
    { id },
    h('thead', null, h('tr', null, ...columns.map(([, title]) => h('th', null, title)))),
    h('tbody', null, ...rows.map((r, i) => h('tr', rowAttrs?.(i) ?? null, ...columns.map(([key]) => h('td', { 'data-field': key }, r[key]))))),
  );
}
