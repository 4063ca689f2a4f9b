// Freezing (train.freeze, train.init.freeze_epochs, train.freeze_bn): which weights an epoch leaves
// alone, as a pure function of the graph, the settings, the init report and the epoch, so a resumed
// run freezes exactly what the uninterrupted one did. A frozen trainable weight gets no update and its
// optimizer slots stay as they are (the loop also tells the engine how many steps each weight sat
// out, for Adam's per-weight bias correction); a frozen BatchNorm's running statistics keep updating (as a
// PyTorch module with requires_grad=False in train mode) unless freeze_bn, which keeps them too (the
// forward still normalizes with the batch's statistics).
import type { IrGraph } from '../ir/graph.js';
import { weightKey, weightSpecs } from '../ir/weights.js';
import { BadOptionsError } from './errors.js';
import { globRegExp } from './init/maps.js';

/** The freezing settings (TrainSettings' part). */
export interface FreezeSettings {
  /** train.freeze: node-id globs (`*` one path segment, `**` any), frozen the whole run */
  freeze: string[];
  /** train.freeze_bn: frozen BatchNorm nodes keep their running statistics too */
  freezeBn: boolean;
  /** train.init.freeze_epochs: the first N epochs train only what the init did not load */
  freezeEpochs: number;
}

/**
 * The node ids each glob of train.freeze matches (over node ids such as `e1/conv`: `*` within one
 * `/` segment, `**` across). Throws BadOptionsError naming every glob that matches no node with
 * weights, and the first few node ids, so a typo never silently freezes nothing.
 */
export function frozenNodes(g: IrGraph, globs: readonly string[]): Set<string> {
  const withWeights = [...new Set(weightSpecs(g).map(({ node }) => node.id))];
  const out = new Set<string>();
  const empty: string[] = [];
  for (const glob of globs) {
    const re = globRegExp(glob, '/');
    const hits = withWeights.filter((id) => re.test(id));
    if (!hits.length) empty.push(glob);
    for (const id of hits) out.add(id);
  }
  if (empty.length)
    throw new BadOptionsError(
      `train.freeze: ${empty.map((e) => `'${e}'`).join(', ')} match${empty.length === 1 ? 'es' : ''} no node with weights (${withWeights.slice(0, 8).join(', ')}${withWeights.length > 8 ? ', ...' : ''}); globs: '*' within one '/' segment, '**' across`,
    );
  return out;
}

/** What an init loaded (InitReport's part): the network keys it set. */
export interface LoadedKeys {
  mapped: readonly { key: string }[];
}

/**
 * The weight keys (`NODE:NAME`) epoch `epoch` (0-based) freezes: every trainable weight of a node
 * train.freeze matches, and for epochs < freezeEpochs every trainable weight the init loaded; with
 * freezeBn also the running statistics (BatchNorm mean/variance) of those nodes / loaded by the init.
 * Throws BadOptionsError for freeze_epochs without an init, and frozenNodes' errors.
 */
export function frozenAt(g: IrGraph, s: FreezeSettings, init: LoadedKeys | undefined, epoch: number): Set<string> {
  if (s.freezeEpochs > 0 && !init) throw new BadOptionsError(`train.init.freeze_epochs is ${s.freezeEpochs} but the run has no initial weights: give train.init.from (or --init), or drop freeze_epochs`);
  const nodes = frozenNodes(g, s.freeze);
  const loaded = epoch < s.freezeEpochs && init ? new Set(init.mapped.map((m) => m.key)) : new Set<string>();
  const out = new Set<string>();
  for (const { node, spec } of weightSpecs(g)) {
    const key = weightKey(node.id, spec.name);
    if (!nodes.has(node.id) && !loaded.has(key)) continue;
    if (spec.role === 'trainable' || s.freezeBn) out.add(key);
  }
  return out;
}
