// Loading an emitted TF.js graph model in Node: TF.js has no file:// loader without tfjs-node, so
// this is an IO handler that reads model.json and the weight shards its manifest names through a
// read function (fs for a directory, or whatever the caller has: the CLI's written files).
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { GraphModel, io } from '@tensorflow/tfjs';
import type { TF } from './backend.js';

interface ModelJsonOnDisk {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: object;
  weightsManifest?: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  signature?: object;
  userDefinedMetadata?: { [key: string]: object };
  modelInitializer?: object;
}

/** Reads a file by its path relative to the model's directory (`model.json`, `group1-shard1of1.bin`). */
export type ReadModelFile = (path: string) => Uint8Array | Promise<Uint8Array>;

/** A tf.io handler whose load() reads `modelPath` and the shards its manifest names, in order. */
export function graphModelHandler(read: ReadModelFile, modelPath = 'model.json'): io.IOHandler {
  const dir = posix.dirname(modelPath);
  return {
    async load(): Promise<io.ModelArtifacts> {
      let json: ModelJsonOnDisk;
      try {
        json = JSON.parse(new TextDecoder().decode(await read(modelPath))) as ModelJsonOnDisk;
      } catch (e) {
        throw new Error(`cannot read the graph model '${modelPath}': ${(e as Error).message}`);
      }
      if (json.format !== 'graph-model') throw new Error(`'${modelPath}' is not a TF.js graph model (format: ${json.format ?? 'none'})`);
      const groups = json.weightsManifest ?? [];
      const shards = await Promise.all(groups.flatMap((g) => g.paths).map((p) => read(posix.join(dir, p))));
      const weightData = new Uint8Array(shards.reduce((s, b) => s + b.byteLength, 0));
      let at = 0;
      for (const b of shards) {
        weightData.set(b, at);
        at += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: groups.flatMap((g) => g.weights),
        weightData: weightData.buffer,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
      };
    },
  };
}

/** The handler over a directory on disk. */
export const graphModelFileHandler = (dir: string): io.IOHandler => graphModelHandler((p) => readFile(join(dir, p)));

/** `tf.loadGraphModel` over the files in `dir`. */
export function loadGraphModelFromFiles(tf: TF, dir: string): Promise<GraphModel> {
  return tf.loadGraphModel(graphModelFileHandler(dir));
}
