// The JSON Schema of architecture specs, generated from the op registry so each op's attributes
// are written once. `npm run schema` writes it to schemas/architecture.schema.json for editors;
// a test checks the committed file is current.
import { OPS, type AttrSpec } from '../ir/ops.js';

export const SCHEMA_ID = 'https://alcli.dev/schemas/architecture.schema.json';
/** Keys every node call may carry besides the op's attributes or the module's parameters. */
export const CALL_KEYS = {
  op: { type: 'string', description: 'a primitive op or a module name' },
  in: {
    description: 'input node name(s); default: the previous node. A trailing ? drops the reference when that node was not built',
    anyOf: [{ $ref: '#/$defs/ref' }, { type: 'array', items: { $ref: '#/$defs/ref' }, minItems: 1 }],
  },
  when: { description: 'build this node only when the condition holds', anyOf: [{ type: 'boolean' }, { $ref: '#/$defs/expr' }] },
  repeat: { description: 'chain this call N times, each instance feeding the next; `i` is the instance index', $ref: '#/$defs/int' },
  doc: { type: 'string', description: 'a note for readers' },
} as const;

const NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

/** A setting's range: [min, max], both included unless `open` names the end left out. */
export interface Limit {
  min: number;
  max: number;
  open?: 'min' | 'max';
}

/**
 * The range of every numeric train setting (the schema's and trainSettings' checks): finite, and
 * wide enough for any sensible run but not for one that overflows float32 or memory.
 */
export const TRAIN_LIMITS = {
  epochs: { min: 1, max: 100_000 },
  batch: { min: 1, max: 1024 },
  crop: { min: 8, max: 4096 },
  lr: { min: 0, max: 100, open: 'min' },
  lr_decay: { min: 0, max: 1, open: 'min' },
  weight_decay: { min: 0, max: 1 },
  'loss.bce': { min: 0, max: 100 },
  'loss.ce': { min: 0, max: 100 },
  'loss.dice': { min: 0, max: 100 },
  'loss.class_weights': { min: 0, max: 1000, open: 'min' },
  'augment.translate': { min: 0, max: 0.5 },
  'augment.rotate.p': { min: 0, max: 1 },
  'augment.rotate.degrees': { min: 0, max: 180 },
  'augment.scale.p': { min: 0, max: 1 },
  'augment.scale.range': { min: 0.1, max: 10 },
  'augment.elastic.p': { min: 0, max: 1 },
  'augment.elastic.alpha': { min: 0, max: 10_000 },
  'augment.elastic.sigma': { min: 0.5, max: 100 },
  'augment.noise.p': { min: 0, max: 1 },
  'augment.noise.std': { min: 0, max: 10 },
  'augment.blur.p': { min: 0, max: 1 },
  'augment.blur.sigma': { min: 0, max: 32 },
  'augment.brightness.p': { min: 0, max: 1 },
  'augment.brightness.range': { min: 0, max: 10 },
  'augment.contrast.p': { min: 0, max: 1 },
  'augment.contrast.range': { min: 0, max: 10 },
  'augment.gamma.p': { min: 0, max: 1 },
  'augment.gamma.range': { min: 0, max: 10, open: 'min' },
  samples_per_image: { min: 1, max: 10_000 },
  samples_per_epoch: { min: 1, max: 10_000_000 },
  val_every: { min: 1, max: 100_000 },
  early_stop: { min: 1, max: 100_000 },
  seed: { min: 0, max: 2 ** 32 - 1 },
  threshold: { min: 0, max: 1 },
  warmup: { min: 0, max: 100_000 },
  momentum: { min: 0, max: 1, open: 'max' },
  betas: { min: 0, max: 1, open: 'max' },
  'init.freeze_epochs': { min: 0, max: 100_000 },
} as const satisfies Record<string, Limit>;

const range = (l: Limit) => ({ ...(l.open === 'min' ? { exclusiveMinimum: l.min } : { minimum: l.min }), ...(l.open === 'max' ? { exclusiveMaximum: l.max } : { maximum: l.max }) });

function attrSchema(a: AttrSpec): Record<string, unknown> {
  const d = { description: a.doc, ...(a.default !== undefined ? { default: a.default } : {}) };
  switch (a.type) {
    case 'int':
      return { ...d, $ref: '#/$defs/int' };
    case 'pair':
      return { ...d, $ref: '#/$defs/pair' };
    case 'float':
      return { ...d, $ref: '#/$defs/number' };
    case 'bool':
      return { ...d, anyOf: [{ type: 'boolean' }, { $ref: '#/$defs/expr' }] };
    case 'enum':
      return { ...d, enum: a.values };
    case 'ref':
      return { ...d, $ref: '#/$defs/ref' };
  }
}

function primitiveCall(kind: string): Record<string, unknown> {
  const attrs = OPS[kind as keyof typeof OPS].attrs as Record<string, AttrSpec>;
  const required = Object.entries(attrs).filter(([, a]) => a.required).map(([k]) => k);
  return {
    if: { properties: { op: { const: kind } }, required: ['op'] },
    then: {
      properties: { ...CALL_KEYS, ...Object.fromEntries(Object.entries(attrs).map(([k, a]) => [k, attrSchema(a)])) },
      additionalProperties: false,
      ...(required.length ? { required } : {}),
    },
  };
}

const numberList = { type: 'array', items: { type: 'number' }, minItems: 1 };

type TrainLimitKey = keyof typeof TRAIN_LIMITS;
const num = (key: TrainLimitKey, description?: string) => ({ type: 'number', ...range(TRAIN_LIMITS[key]), ...(description ? { description } : {}) });
/** [lo, hi] (sampled uniformly), or one number for both ends */
const span = (key: TrainLimitKey, description: string) => ({ description, anyOf: [num(key), { type: 'array', items: num(key), minItems: 2, maxItems: 2 }] });

/** A train.augment transform with a probability: true (nnU-Net-like defaults), false (off), or {p, ...its ranges}. */
function chance(name: string, description: string, fields: Record<string, unknown>) {
  return {
    description: `${description}; true: the defaults, or a map {p, ${Object.keys(fields).join(', ')}} (missing keys take the defaults); off unless named`,
    anyOf: [{ type: 'boolean' }, { type: 'object', additionalProperties: false, properties: { p: num(`augment.${name}.p` as TrainLimitKey, 'probability per sample'), ...fields } }],
  };
}

export function architectureSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'alcli architecture spec',
    description: 'A segmentation network: input, output, modules and a graph of named nodes. See README.md, "The spec language".',
    type: 'object',
    additionalProperties: false,
    // extension keys (as docker-compose's x-): a place for YAML anchors that nodes merge (<<: *base)
    patternProperties: { '^x-': { description: 'ignored by alcli: a place for YAML anchors that nodes merge with <<: *name' } },
    required: ['alcli'],
    properties: {
      alcli: { const: 1, description: 'spec language version' },
      name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
      description: { type: 'string' },
      imports: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'files holding shared modules, relative to this file' },
      input: {
        type: 'object',
        additionalProperties: false,
        required: ['channels'],
        properties: {
          channels: { type: 'integer', minimum: 1, maximum: 64 },
          size: { description: 'default input size, n or [h, w]', anyOf: [{ type: 'integer', minimum: 1, maximum: 16384 }, { type: 'array', items: { type: 'integer', minimum: 1, maximum: 16384 }, minItems: 2, maxItems: 2 }] },
          normalize: {
            description: "'dataset' (train-set mean/std, the default), 'none', or explicit per-channel mean/std",
            anyOf: [
              { enum: ['dataset', 'none'] },
              { type: 'object', additionalProperties: false, required: ['mean', 'std'], properties: { mean: numberList, std: numberList } },
            ],
          },
        },
      },
      output: {
        type: 'object',
        additionalProperties: false,
        properties: {
          classes: { type: 'integer', minimum: 1 },
          activation: { enum: ['sigmoid', 'softmax', 'none'] },
          from: { $ref: '#/$defs/ref', description: 'the node giving the logits; default: the last node' },
        },
      },
      modules: { type: 'object', propertyNames: { pattern: NAME }, additionalProperties: { $ref: '#/$defs/module' } },
      graph: { $ref: '#/$defs/graph' },
      train: { $ref: '#/$defs/train' },
    },
    $defs: {
      expr: { type: 'string', minLength: 1, description: 'an expression: integers, + - * // %, comparisons, and/or/not, min/max/if, params, x.channels' },
      int: { anyOf: [{ type: 'integer' }, { $ref: '#/$defs/expr' }] },
      number: { anyOf: [{ type: 'number' }, { $ref: '#/$defs/expr' }] },
      pair: { anyOf: [{ $ref: '#/$defs/int' }, { type: 'array', items: { $ref: '#/$defs/int' }, minItems: 2, maxItems: 2 }] },
      ref: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*\\??$' },
      graph: { type: 'object', minProperties: 1, propertyNames: { pattern: NAME }, additionalProperties: { $ref: '#/$defs/node' } },
      node: {
        type: 'object',
        required: ['op'],
        properties: CALL_KEYS,
        allOf: Object.keys(OPS).map(primitiveCall),
      },
      param: {
        anyOf: [
          { enum: ['int', 'float', 'bool'], description: 'a required parameter of this type' },
          { type: 'number', description: 'an optional parameter with this default' },
          { type: 'boolean', description: 'an optional flag with this default' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['type'],
            properties: {
              type: { enum: ['int', 'float', 'bool'] },
              default: { anyOf: [{ type: 'number' }, { type: 'boolean' }, { $ref: '#/$defs/expr' }] },
              min: { type: 'number' },
              max: { type: 'number' },
              doc: { type: 'string' },
            },
          },
        ],
      },
      module: {
        type: 'object',
        additionalProperties: false,
        required: ['graph'],
        properties: {
          doc: { type: 'string' },
          inputs: { type: 'array', items: { type: 'string', pattern: NAME }, minItems: 1, description: "input names; default: ['x']" },
          params: { type: 'object', propertyNames: { pattern: NAME }, additionalProperties: { $ref: '#/$defs/param' } },
          graph: { $ref: '#/$defs/graph' },
          output: { $ref: '#/$defs/ref', description: 'the node whose value the module returns; default: the last node' },
        },
      },
      train: {
        type: 'object',
        additionalProperties: false,
        description: 'training settings; each can be overridden with --set train.KEY=VALUE',
        // the message of a failed `not` is its schema's description (validate.ts)
        allOf: [{ description: 'sets both samples_per_image and samples_per_epoch: give one', not: { required: ['samples_per_image', 'samples_per_epoch'] } }],
        properties: {
          epochs: { type: 'integer', ...range(TRAIN_LIMITS.epochs) },
          batch: { type: 'integer', ...range(TRAIN_LIMITS.batch) },
          crop: {
            description: 'random crop size, n or [h, w]',
            anyOf: [{ type: 'integer', ...range(TRAIN_LIMITS.crop) }, { type: 'array', items: { type: 'integer', ...range(TRAIN_LIMITS.crop) }, minItems: 2, maxItems: 2 }],
          },
          lr: { type: 'number', ...range(TRAIN_LIMITS.lr) },
          lr_decay: { type: 'number', ...range(TRAIN_LIMITS.lr_decay), description: 'learning rate factor per epoch (schedule exp only)' },
          schedule: {
            enum: ['exp', 'poly', 'cosine'],
            description: 'learning rate per epoch after the warm-up: exp lr x lr_decay^e (default), poly lr x (1 - e/E)^0.9 (nnU-Net), cosine lr x 0.5 (1 + cos(pi e/E))',
          },
          warmup: { type: 'integer', ...range(TRAIN_LIMITS.warmup), description: 'epochs of linear warm-up before the schedule: lr x (e + 1) / (warmup + 1); default 0' },
          optimizer: { enum: ['adam', 'adamw', 'sgd'], description: 'torch.optim.Adam (default), AdamW (decoupled weight decay) or SGD (momentum, optional Nesterov)' },
          weight_decay: { type: 'number', ...range(TRAIN_LIMITS.weight_decay), description: 'adam, sgd: L2 added to the gradient (default 0); adamw: decoupled decay (default 0.01)' },
          momentum: { type: 'number', ...range(TRAIN_LIMITS.momentum), description: 'sgd: momentum (default 0.9)' },
          nesterov: { type: 'boolean', description: 'sgd: Nesterov momentum (default false)' },
          betas: { type: 'array', items: { type: 'number', ...range(TRAIN_LIMITS.betas) }, minItems: 2, maxItems: 2, description: 'adam, adamw: [beta1, beta2] (default [0.9, 0.999])' },
          loss: {
            type: 'object',
            additionalProperties: false,
            properties: {
              bce: { type: 'number', ...range(TRAIN_LIMITS['loss.bce']), description: 'weight of the cross-entropy term (BCE for a sigmoid output, softmax cross-entropy for softmax)' },
              ce: { type: 'number', ...range(TRAIN_LIMITS['loss.ce']), description: 'alias of bce' },
              dice: { type: 'number', ...range(TRAIN_LIMITS['loss.dice']), description: 'weight of the soft Dice term (softmax: mean over the foreground classes)' },
              class_weights: {
                type: 'array',
                items: { type: 'number', ...range(TRAIN_LIMITS['loss.class_weights']) },
                minItems: 2,
                description: 'softmax only: the cross-entropy weight of each class 0..K-1 (PyTorch CrossEntropyLoss weight)',
              },
            },
          },
          augment: {
            type: 'object',
            additionalProperties: false,
            properties: {
              dihedral: { type: 'boolean' },
              translate: { type: 'number', ...range(TRAIN_LIMITS['augment.translate']), description: 'largest shift, as a fraction of the size' },
              rotate: chance('rotate', 'rotation by any angle (default p 0.2, degrees 180)', { degrees: num('augment.rotate.degrees', 'largest angle either way') }),
              scale: chance('scale', 'zoom (default p 0.2, range [0.7, 1.4])', { range: span('augment.scale.range', 'zoom factor; > 1 enlarges') }),
              elastic: chance('elastic', 'elastic deformation (default p 0.2, alpha [0, 200], sigma [9, 13])', {
                alpha: span('augment.elastic.alpha', 'displacement scale, pixels'),
                sigma: span('augment.elastic.sigma', 'smoothness of the displacement, pixels'),
              }),
              noise: chance('noise', 'additive Gaussian noise (default p 0.1, std [0, 0.3])', { std: span('augment.noise.std', 'standard deviation, in normalized units') }),
              blur: chance('blur', 'Gaussian blur (default p 0.2, sigma [0.5, 1])', { sigma: span('augment.blur.sigma', 'pixels') }),
              brightness: chance('brightness', 'brightness x f (default p 0.15, range [0.75, 1.25])', { range: span('augment.brightness.range', 'factor') }),
              contrast: chance('contrast', 'contrast about the mean x f (default p 0.15, range [0.75, 1.25])', { range: span('augment.contrast.range', 'factor') }),
              gamma: chance('gamma', 'gamma on the intensity range (default p 0.3, range [0.7, 1.5])', { range: span('augment.gamma.range', 'exponent') }),
            },
          },
          samples_per_image: { type: 'integer', ...range(TRAIN_LIMITS.samples_per_image), description: "random crops per train image per epoch (default 8: the paper's expanded epoch)" },
          samples_per_epoch: { type: 'integer', ...range(TRAIN_LIMITS.samples_per_epoch), description: 'a fixed number of samples per epoch (instead of samples_per_image)' },
          val_every: { type: 'integer', ...range(TRAIN_LIMITS.val_every), description: 'validate every this many epochs, and at the last (default 1)' },
          early_stop: { type: 'integer', ...range(TRAIN_LIMITS.early_stop), description: 'stop after this many validations without a better validation IoU' },
          seed: { type: 'integer', ...range(TRAIN_LIMITS.seed) },
          threshold: { type: 'number', ...range(TRAIN_LIMITS.threshold) },
          init: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'map'],
            description: 'start from weights in a file (alcli train --init): a .safetensors file or an .onnx model, paths relative to the spec',
            properties: {
              from: { type: 'string', minLength: 1, description: 'the weights file: .safetensors, or .onnx (its initializers)' },
              map: { type: 'string', minLength: 1, description: 'file names -> network weights: alcli, twin, torchvision-resnet34, or a YAML file of rules' },
              slice: { type: 'boolean', description: 'keep the first channels of wider tensors instead of refusing them (default false)' },
              freeze_epochs: { type: 'integer', ...range(TRAIN_LIMITS['init.freeze_epochs']), description: 'the first N epochs train only the weights the file did not set, then everything (default 0)' },
            },
          },
          freeze: {
            type: 'array',
            items: { type: 'string', minLength: 1 },
            description: "node-id globs whose weights stay as they are the whole run ('*' within one '/' segment, '**' across; each must match a node)",
          },
          freeze_bn: { type: 'boolean', description: 'frozen BatchNorm nodes keep their running statistics too (default false: they keep updating)' },
        },
      },
    },
  };
}
