// spec.resolved.yaml: the spec as compiled, standing alone: --set overrides and --size applied,
// every imported module copied in and `imports` dropped, so it compiles without its lib/ files.
import { Document, isMap } from 'yaml';
import type { Compiled } from '../frontend/compile.js';

const KEY_ORDER = ['alcli', 'name', 'description', 'input', 'output', 'modules', 'graph', 'train'];

export function resolvedSpec(c: Compiled, opts: { size?: [number, number] } = {}): Record<string, unknown> {
  const main = c.spec.file.path;
  const modules: Record<string, unknown> = {};
  // Raw module text from each imported file (expressions stay expressions), in import order.
  for (const [path, file] of c.spec.files) {
    if (path === main) continue;
    const value = file.doc.toJS({ maxAliasCount: 100 }) as { modules?: Record<string, unknown> } | null;
    Object.assign(modules, structuredClone(value?.modules ?? {}));
  }
  const { imports: _imports, ...doc } = structuredClone(c.resolved) as unknown as Record<string, unknown>;
  Object.assign(modules, (doc.modules as Record<string, unknown> | undefined) ?? {});
  if (Object.keys(modules).length) doc.modules = modules;
  if (opts.size) doc.input = { ...(doc.input as object), size: [...opts.size] };
  const ordered: Record<string, unknown> = {};
  for (const k of [...KEY_ORDER, ...Object.keys(doc)]) if (k in doc && !(k in ordered)) ordered[k] = doc[k];
  return ordered;
}

/** YAML text with one node call per line, the way specs are written by hand. */
export function resolvedSpecYaml(c: Compiled, opts: { size?: [number, number]; overrides?: readonly string[] } = {}): string {
  const value = resolvedSpec(c, opts);
  const doc = new Document(value);
  const inlined = [...c.spec.files.keys()].slice(1);
  const changes = [
    ...(opts.overrides ?? []).map((s) => `--set ${s}`),
    ...(opts.size ? [`--size ${opts.size[0]}x${opts.size[1]}`] : []),
    ...(inlined.length ? [`modules inlined from ${inlined.join(', ')}`] : []),
  ];
  doc.commentBefore = [
    ` Resolved by alcli from ${c.spec.file.path}${changes.length ? `: ${changes.join('; ')}` : ''}.`,
    ' Generated file: edit the original spec instead.',
  ].join('\n');
  const flow = (path: (string | number)[]) => {
    const n = doc.getIn(path, true);
    if (isMap(n)) n.flow = true;
  };
  const bodies: (string | number)[][] = [['graph']];
  for (const m of Object.keys((value.modules as object | undefined) ?? {})) {
    bodies.push(['modules', m, 'graph']);
    flow(['modules', m, 'params']);
  }
  for (const body of bodies) {
    const g = doc.getIn(body, true);
    if (isMap(g)) for (const item of g.items) flow([...body, String((item.key as { value: unknown }).value)]);
  }
  for (const k of ['input', 'output']) flow([k]);
  return doc.toString({ lineWidth: 0 });
}
