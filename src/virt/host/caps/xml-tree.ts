/**
 * libvirt's XML documents (capabilities, domain capabilities, node devices, sysinfo) as a small
 * element tree, so each parser in this folder can look elements up by path instead of tracking
 * SAX state. Parsed with saxes; the documents come from libvirt and are a few hundred kB at most.
 */
import { SaxesParser } from 'saxes';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text, trimmed (text of children not included). */
  text: string;
}

const MAX_DEPTH = 64;

export function parseXmlTree(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.on('opentag', (tag) => {
    if (stack.length >= MAX_DEPTH) throw new Error(`XML nested deeper than ${MAX_DEPTH} elements`);
    const element: XmlElement = { name: tag.name, attributes: { ...(tag.attributes as Record<string, string>) }, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('text', (text) => {
    const current = stack[stack.length - 1];
    if (current) current.text += text;
  });
  parser.on('closetag', () => {
    const element = stack.pop();
    if (element) element.text = element.text.trim();
  });
  parser.write(xml).close();
  if (!root) throw new Error('XML document has no root element');
  return root;
}

/** Children named `name`. */
export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element ? element.children.filter((c) => c.name === name) : [];
}

/** The element at a slash-separated path of child names below `element` (first match at each step). */
export function find(element: XmlElement | undefined, path: string): XmlElement | undefined {
  let current = element;
  for (const step of path.split('/')) {
    if (!current) return undefined;
    current = current.children.find((c) => c.name === step);
  }
  return current;
}

/** Every element at a slash-separated path: all matches at the last step, below the first match of the others. */
export function findAll(element: XmlElement | undefined, path: string): XmlElement[] {
  const steps = path.split('/');
  const last = steps.pop() as string;
  const parent = steps.length > 0 ? find(element, steps.join('/')) : element;
  return childrenNamed(parent, last);
}

/** The trimmed text at `path`, or undefined when the element is absent. */
export function textAt(element: XmlElement | undefined, path: string): string | undefined {
  return find(element, path)?.text;
}
