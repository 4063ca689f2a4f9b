import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { jsonFlag, printJson, UsageError } from './common.js';

const DEFAULT_TEMPLATE = 'alnet';
const NAME = /^[A-Za-z0-9_.-]+$/;

export default class Init extends AlcliCommand {
  static override summary = 'Scaffold a new spec from a template';
  static override description = `Writes DIR/NAME.yaml from a template (default: ${DEFAULT_TEMPLATE}) and copies the lib/ module files it imports next to it, so the new spec validates as it is.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> my-net',
    '<%= config.bin %> <%= command.id %> tiny --from unet-small --dir specs',
  ];
  static override args = { name: Args.string({ description: 'name of the new spec (file NAME.yaml)', required: true }) };
  static override flags = {
    ...jsonFlag,
    from: Flags.string({ summary: `template to start from (default: ${DEFAULT_TEMPLATE})`, helpValue: 'TEMPLATE' }),
    dir: Flags.string({ char: 'd', summary: 'directory to write into', default: '.', helpValue: 'DIR' }),
    force: Flags.boolean({ summary: 'overwrite NAME.yaml and lib files that differ' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Init);
    const name = args.name.replace(/\.ya?ml$/, '');
    if (!NAME.test(name)) throw new UsageError(`'${args.name}' is not a valid spec name: use letters, digits, '_', '.', '-'`);
    const { templateFiles, templateNames } = await import('../frontend/templates.js');
    const template = flags.from ?? DEFAULT_TEMPLATE;
    const templates = templateNames();
    if (!templates.includes(template)) {
      const { suggestion } = await import('../frontend/diagnostics.js');
      const hint = suggestion(template, templates);
      throw new UsageError(`unknown template '${template}'${hint ? `; ${hint}` : ''} (templates: ${templates.join(', ')})`);
    }
    const target = join(flags.dir, `${name}.yaml`);
    if (existsSync(target) && !flags.force) throw new UsageError(`'${target}' already exists; use --force to overwrite it`);

    const { spec, libs } = templateFiles(template, name);
    const copied: string[] = [];
    const kept: string[] = [];
    // lib files first, so the spec never points at files that are not there yet
    for (const [rel, libText] of libs) {
      const to = join(flags.dir, rel);
      if (existsSync(to) && readFileSync(to, 'utf8') !== libText && !flags.force) {
        kept.push(to);
        continue;
      }
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, libText);
      copied.push(to);
    }
    mkdirSync(flags.dir, { recursive: true });
    writeFileSync(target, spec);

    if (flags.json) {
      printJson({ ok: true, file: target, template, copied, kept });
      return;
    }
    const lines = [`created ${target} (template ${template})`];
    if (copied.length) lines.push(`copied ${copied.join(', ')}`);
    for (const k of kept) lines.push(`kept ${k}: it differs from alcli's copy (--force replaces it)`);
    lines.push('', 'next steps:', `  alcli validate ${target}`, `  alcli summary ${target}`, `  alcli graph ${target} --depth 1`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
