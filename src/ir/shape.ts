// The values an op is described by: its activations' shapes and its attributes. Apart from the
// graph (graph.ts) so that the op registry (ops.ts) and the graph can both use them.

/** Spatial size and channels of one activation (the batch dimension is implicit). */
export interface Shape {
  h: number;
  w: number;
  c: number;
}

export type AttrValue = number | boolean | string | readonly number[];
export type Attrs = Record<string, AttrValue>;
