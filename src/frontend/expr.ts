// The tiny, total expression language of module parameters (DESIGN.md): integers and decimals,
// + - * // %, comparisons, and/or/not, parentheses, min/max/if, names and `x.channels`-style
// shape lookups. No loops, no strings: every expression terminates and has one value.

export type Value = number | boolean;
/** Resolves `a` or `a.b` to a value, or undefined when the name is unknown. */
export type Scope = (path: readonly string[]) => Value | undefined;

export class ExprError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

type Tok = { t: 'num' | 'id' | 'op' | 'end'; v: string; at: number };

const OPS = ['//', '==', '!=', '<=', '>=', '+', '-', '*', '%', '<', '>', '(', ')', ',', '.', '/'];

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) i++;
    else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(src.slice(i))!;
      toks.push({ t: 'num', v: m[0], at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ t: 'id', v: m[0], at: i });
      i += m[0].length;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw new ExprError(`unexpected character '${c}'`, i);
      toks.push({ t: 'op', v: op, at: i });
      i += op.length;
    }
  }
  toks.push({ t: 'end', v: '', at: src.length });
  return toks;
}

type Ast =
  | { k: 'lit'; v: Value; at: number }
  | { k: 'name'; path: string[]; at: number }
  | { k: 'call'; fn: string; args: Ast[]; at: number }
  | { k: 'un'; op: string; a: Ast; at: number }
  | { k: 'bin'; op: string; a: Ast; b: Ast; at: number };

const FUNCS: Record<string, number> = { min: 2, max: 2, if: 3 };

/** How deep parentheses, `not` and unary minus may nest: each level is a stack frame or three. */
export const MAX_EXPR_DEPTH = 50;
/** Expressions are one-liners; this bounds the work of one. */
export const MAX_EXPR_LENGTH = 1000;

export function parseExpr(src: string): Ast {
  if (src.length > MAX_EXPR_LENGTH) throw new ExprError(`the expression is ${src.length} characters long (limit ${MAX_EXPR_LENGTH})`, 0);
  const toks = tokenize(src);
  let p = 0;
  let depth = 0;
  const deeper = <T>(at: number, f: () => T): T => {
    if (++depth > MAX_EXPR_DEPTH) throw new ExprError(`the expression nests more than ${MAX_EXPR_DEPTH} deep`, at);
    try {
      return f();
    } finally {
      depth--;
    }
  };
  const peek = () => toks[p];
  const isOp = (v: string) => peek().t === 'op' && peek().v === v;
  const isWord = (v: string) => peek().t === 'id' && peek().v === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new ExprError(`expected '${v}'`, peek().at);
    p++;
  };
  const binary = (next: () => Ast, ops: string[], words = false): Ast => {
    let a = next();
    for (;;) {
      const t = peek();
      const hit = words ? t.t === 'id' && ops.includes(t.v) : t.t === 'op' && ops.includes(t.v);
      if (!hit) return a;
      p++;
      if (t.v === '/') throw new ExprError("use '//' for integer division", t.at);
      a = { k: 'bin', op: t.v, a, b: next(), at: t.at };
    }
  };
  const or = (): Ast => binary(and, ['or'], true);
  const and = (): Ast => binary(not, ['and'], true);
  const not = (): Ast => {
    if (isWord('not')) {
      const at = peek().at;
      p++;
      return { k: 'un', op: 'not', a: deeper(at, not), at };
    }
    return cmp();
  };
  const cmp = (): Ast => binary(sum, ['==', '!=', '<', '<=', '>', '>=']);
  const sum = (): Ast => binary(term, ['+', '-']);
  const term = (): Ast => binary(unary, ['*', '//', '%', '/']);
  const unary = (): Ast => {
    if (isOp('-')) {
      const at = peek().at;
      p++;
      return { k: 'un', op: '-', a: deeper(at, unary), at };
    }
    return primary();
  };
  const primary = (): Ast => {
    const t = peek();
    if (t.t === 'num') {
      p++;
      return { k: 'lit', v: Number(t.v), at: t.at };
    }
    if (isOp('(')) {
      p++;
      const e = deeper(t.at, or);
      expect(')');
      return e;
    }
    if (t.t === 'id') {
      p++;
      if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true', at: t.at };
      if (isOp('(')) {
        if (!(t.v in FUNCS)) throw new ExprError(`unknown function '${t.v}' (known: ${Object.keys(FUNCS).join(', ')})`, t.at);
        p++;
        const args: Ast[] = [deeper(t.at, or)];
        while (isOp(',')) {
          p++;
          args.push(deeper(t.at, or));
        }
        expect(')');
        if (args.length !== FUNCS[t.v]) throw new ExprError(`${t.v}() takes ${FUNCS[t.v]} arguments, got ${args.length}`, t.at);
        return { k: 'call', fn: t.v, args, at: t.at };
      }
      const path = [t.v];
      while (isOp('.')) {
        p++;
        const n = peek();
        if (n.t !== 'id') throw new ExprError("expected a name after '.'", n.at);
        p++;
        path.push(n.v);
      }
      return { k: 'name', path, at: t.at };
    }
    throw new ExprError(t.t === 'end' ? 'unexpected end of expression' : `unexpected '${t.v}'`, t.at);
  };
  const ast = or();
  if (peek().t !== 'end') throw new ExprError(`unexpected '${peek().v}'`, peek().at);
  return ast;
}

const num = (v: Value, at: number): number => {
  if (typeof v !== 'number') throw new ExprError('expected a number, got a true/false value', at);
  return v;
};
const bool = (v: Value, at: number): boolean => {
  if (typeof v !== 'boolean') throw new ExprError('expected a comparison or true/false, got a number', at);
  return v;
};

export function evalAst(e: Ast, scope: Scope): Value {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'name': {
      const v = scope(e.path);
      if (v === undefined) throw new ExprError(`unknown name '${e.path.join('.')}'`, e.at);
      return v;
    }
    case 'call': {
      if (e.fn === 'if') return bool(evalAst(e.args[0], scope), e.at) ? evalAst(e.args[1], scope) : evalAst(e.args[2], scope);
      const [a, b] = e.args.map((x) => num(evalAst(x, scope), x.at));
      return e.fn === 'min' ? Math.min(a, b) : Math.max(a, b);
    }
    case 'un':
      return e.op === 'not' ? !bool(evalAst(e.a, scope), e.at) : -num(evalAst(e.a, scope), e.at);
    case 'bin': {
      if (e.op === 'and') return bool(evalAst(e.a, scope), e.at) && bool(evalAst(e.b, scope), e.at);
      if (e.op === 'or') return bool(evalAst(e.a, scope), e.at) || bool(evalAst(e.b, scope), e.at);
      const a = evalAst(e.a, scope);
      const b = evalAst(e.b, scope);
      if (e.op === '==') return a === b;
      if (e.op === '!=') return a !== b;
      const x = num(a, e.a.at);
      const y = num(b, e.b.at);
      switch (e.op) {
        case '+': return x + y;
        case '-': return x - y;
        case '*': return x * y;
        case '//':
          if (y === 0) throw new ExprError('division by zero', e.at);
          return Math.floor(x / y);
        case '%':
          if (y === 0) throw new ExprError('division by zero', e.at);
          return x - y * Math.floor(x / y);
        case '<': return x < y;
        case '<=': return x <= y;
        case '>': return x > y;
        case '>=': return x >= y;
      }
      throw new ExprError(`unknown operator '${e.op}'`, e.at);
    }
  }
}

export function evaluate(src: string, scope: Scope): Value {
  return evalAst(parseExpr(src), scope);
}
