// The spec templates shipped in templates/ (what `alcli init` scaffolds, and the multi-class spec
// `alcli demo --classes 3` trains). Templates are written as if they sat in architectures/, so their
// imports (lib/repvgg.yaml, ...) resolve against it: the shared modules exist once, in
// architectures/lib, and a scaffolded spec gets copies of the ones it needs beside it.
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** A file of this package (from src/frontend or dist/frontend alike). */
const packageFile = (...parts: string[]): string => fileURLToPath(new URL(['../..', ...parts].join('/'), import.meta.url));

/** The template names (files templates/NAME.yaml), sorted. */
export const templateNames = (): string[] =>
  readdirSync(packageFile('templates'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();

export interface TemplateFiles {
  /** the template's text with its `name:` set to the new spec's */
  spec: string;
  /** the lib files it imports, transitively: path relative to the spec's folder -> text */
  libs: Map<string, string>;
}

/** The template with its `name:` set to `name`. */
export function renamed(text: string, name: string): string {
  return /^name:.*$/m.test(text) ? text.replace(/^name:.*$/m, `name: ${name}`) : text.replace(/^(alcli:.*)$/m, `$1\nname: ${name}`);
}

/**
 * The files of a spec made from template `template` and named `name`: the spec's text and the
 * architectures/ module files it imports, followed transitively. Throws on an unknown template or
 * an import that leaves architectures/ (a packaging bug).
 */
export function templateFiles(template: string, name: string): TemplateFiles {
  const text = readFileSync(packageFile('templates', `${template}.yaml`), 'utf8');
  const importsOf = (t: string) => ((parse(t) as { imports?: unknown[] } | null)?.imports ?? []).filter((x): x is string => typeof x === 'string');
  const libs = new Map<string, string>();
  const queue = importsOf(text).map((p) => posix.normalize(p));
  while (queue.length) {
    const rel = queue.shift()!;
    if (libs.has(rel)) continue;
    if (rel.startsWith('..') || posix.isAbsolute(rel)) throw new Error(`template import '${rel}' leaves architectures/`);
    const lib = readFileSync(packageFile('architectures', rel), 'utf8');
    libs.set(rel, lib);
    queue.push(...importsOf(lib).map((p) => posix.normalize(posix.join(posix.dirname(rel), p))));
  }
  return { spec: renamed(text, name), libs };
}
