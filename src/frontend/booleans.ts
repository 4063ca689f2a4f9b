// YAML 1.1 booleans: `yes`, `no`, `on`, `off`, `y`, `n` were booleans in YAML 1.1, and are plain
// strings in YAML 1.2, which alcli reads. Where a spec expects a boolean, such a word would
// otherwise reach the expression evaluator as a name ("unknown name 'no'"), one error per run;
// here every one in a file is found at once, before validation and expansion, with the fix.
import { isScalar, Scalar } from 'yaml';
import { diag, type Diagnostic } from '../ir/diagnostics.js';
import { OPS, type AttrSpec } from '../ir/ops.js';
import { nodeAt, spanAt, type SourceFile, type ValuePath } from './source.js';

/** The YAML 1.1 spellings of true and false that YAML 1.2 (the core schema) reads as strings. */
const YAML11_TRUE = ['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'];
const YAML11_FALSE = ['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'];

/** true or false for a YAML 1.1 spelling of a boolean that YAML 1.2 reads as text; otherwise undefined. */
export const yaml11Truth = (word: string): boolean | undefined => (YAML11_TRUE.includes(word) ? true : YAML11_FALSE.includes(word) ? false : undefined);

/** The message for such a word where a boolean is expected. */
export const yaml11Message = (word: string, truth: boolean) => `'${word}' is a string in YAML 1.2 (alcli's YAML); write ${truth}`;

export interface Yaml11Boolean {
  /** every value path the word stands at (one YAML node can stand at several through aliases and merge keys) */
  paths: ValuePath[];
  diagnostic: Diagnostic;
}

/** A module's parameter type by module and parameter name (from this file or an imported one). */
export type ParamTypeOf = (module: string, param: string) => string | undefined;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every plain `yes/no/on/off/y/n` where this file expects a boolean: bool attributes of ops, `when`,
 * bool parameters of module calls, bool parameter defaults, `train.augment.dihedral`. Places that take
 * text (names, `doc`, `in`, enums) are left alone, and so is a word that names a parameter in scope
 * (a module parameter called `n` may well be meant).
 */
export function yaml11Booleans(file: SourceFile, value: unknown, paramType: ParamTypeOf): Yaml11Boolean[] {
  const found = new Map<unknown, Yaml11Boolean>();
  const check = (path: ValuePath, inScope: readonly string[] = []) => {
    const node = nodeAt(file, path);
    if (!isScalar(node) || node.type !== Scalar.PLAIN || typeof node.value !== 'string') return;
    const word = node.value;
    const truth = yaml11Truth(word);
    if (truth === undefined || inScope.includes(word)) return;
    const seen = found.get(node);
    if (seen) {
      seen.paths.push(path);
      return;
    }
    const at = node.range ? spanAt(file, node.range[0], node.range[1]) : undefined;
    found.set(node, {
      paths: [path],
      diagnostic: diag('bad-type', yaml11Message(word, truth), at, {
        hint: `'${path.join('.')}' takes true or false: yes/no, on/off and y/n were booleans only in YAML 1.1, so write true or false`,
      }),
    });
  };

  if (!isObj(value)) return [];
  const bodies: { path: ValuePath; nodes: unknown; scope: string[] }[] = [{ path: ['graph'], nodes: value.graph, scope: [] }];
  if (isObj(value.modules)) {
    for (const [m, def] of Object.entries(value.modules)) {
      if (!isObj(def)) continue;
      const params = isObj(def.params) ? def.params : {};
      const scope = Object.keys(params);
      bodies.push({ path: ['modules', m, 'graph'], nodes: def.graph, scope });
      for (const [k, p] of Object.entries(params)) {
        if (!isObj(p)) check(['modules', m, 'params', k]);
        else if (p.type === 'bool') check(['modules', m, 'params', k, 'default'], scope);
      }
    }
  }
  for (const { path, nodes, scope } of bodies) {
    if (!isObj(nodes)) continue;
    for (const [name, call] of Object.entries(nodes)) {
      if (!isObj(call)) continue;
      const op = typeof call.op === 'string' ? call.op : undefined;
      const attrs = op && op in OPS ? (OPS[op as keyof typeof OPS].attrs as Record<string, AttrSpec>) : undefined;
      for (const key of Object.keys(call)) {
        const isBool =
          key === 'when' || (attrs ? attrs[key]?.type === 'bool' : op !== undefined && !['op', 'in', 'repeat', 'doc'].includes(key) && paramType(op, key) === 'bool');
        if (isBool) check([...path, name, key], scope);
      }
    }
  }
  if (isObj(value.train) && isObj(value.train.augment)) check(['train', 'augment', 'dihedral']);
  return [...found.values()];
}
