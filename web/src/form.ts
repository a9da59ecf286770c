/** Labelled form controls (every input has a visible label). */
import { h } from './dom.ts';

let uid = 0;
const nextId = (name: string) => `f-${name}-${++uid}`;

export function field(
  label: string,
  name: string,
  value: string,
  attrs: Record<string, string> = {},
): HTMLElement {
  const id = nextId(name);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name, value, ...attrs }),
  );
}

export function select(
  label: string,
  name: string,
  value: string,
  options: string[],
  anyLabel = 'any',
): HTMLElement {
  const id = nextId(name);
  const opts = options.includes(value) || value === '' ? options : [value, ...options];
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h(
      'select',
      { id, name },
      h('option', { value: '' }, anyLabel),
      opts.map((o) => h('option', { value: o, selected: o === value }, o)),
    ),
  );
}

export function textarea(label: string, name: string, value: string, placeholder: string): HTMLElement {
  const id = nextId(name);
  const el = h('textarea', { id, name, rows: 2, placeholder });
  el.value = value;
  return h('div', { class: 'field' }, h('label', { for: id }, label), el);
}
