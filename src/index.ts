// The library API: everything the CLI does is callable from code.
export { compile, applyOverrides, DEFAULT_MAX_PARAMS, type Compiled, type CompileOptions, type CompileResult } from './compile.js';
export { loadSpec, type LoadedSpec, type SpecDoc, type SpecHost, type ModuleDef } from './spec/load.js';
export { expandSpec, DEFAULT_INPUT_SIZE } from './spec/expand.js';
export { renderDiagnostic, renderDiagnostics, suggestion, didYouMean, ERROR_CODES, type Diagnostic, type ErrorCode, type SourcePos } from './spec/diagnostics.js';
export { architectureSchema } from './spec/schema.js';
export { OPS, OP_KINDS, type OpKind, type OpDef } from './ir/ops.js';
export type { IrGraph, IrNode, Shape } from './ir/graph.js';
export { graphStats, type GraphStats, type NodeStats } from './ir/stats.js';
export { networkStride } from './ir/stride.js';
export { DEPLOY_PASSES, runPasses, deployForm } from './passes/pipeline.js';
export { verifyIr } from './passes/verify-ir.js';
// Views of a compiled spec, as the CLI prints and writes them (pure: data in, text out).
export { summaryData, summaryText, type SummaryData } from './render/summary.js';
export { drawing, type Drawing } from './render/drawing.js';
export { renderDot } from './render/dot.js';
export { renderMermaid } from './render/mermaid.js';
export { graphJson, type GraphJson } from './render/graph-json.js';
export { resolvedSpec, resolvedSpecYaml } from './render/resolved-spec.js';
