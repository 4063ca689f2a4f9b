// src/cli/: the commands: each parses its flags, calls the library, prints.
// May import: ir, io, passes, frontend, render, emit, runtime, train, export, bench, report.
// The command list (oclif "explicit" discovery, see package.json). Listing commands here rather
// than globbing dist/cli lets helper files (base, common) sit next to the commands.
import Bench from './bench.js';
import Compile from './compile.js';
import DataCheck from './data-check.js';
import Demo from './demo.js';
import Evaluate from './evaluate.js';
import Export from './export.js';
import Graph from './graph.js';
import Init from './init.js';
import Predict from './predict.js';
import Summary from './summary.js';
import Train from './train.js';
import Validate from './validate.js';

export const COMMANDS = { validate: Validate, summary: Summary, compile: Compile, graph: Graph, init: Init, export: Export, bench: Bench, train: Train, evaluate: Evaluate, predict: Predict, demo: Demo, 'data:check': DataCheck };
