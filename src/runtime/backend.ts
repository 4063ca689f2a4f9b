// TF.js and its backend, loaded lazily (a command that does not compute never pays for it).
// auto: tensorflow (tfjs-node-gpu, then tfjs-node) when installed, else wasm, else cpu.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export type TF = typeof import('@tensorflow/tfjs');
export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
/** A TF.js backend: tensorflow (native), wasm, cpu, or auto: tensorflow when installed, else wasm, else cpu. */
export type BackendChoice = (typeof BACKENDS)[number];

/** A backend name read back (e.g. from run.json) as a choice; undefined for any other name (such as 'onnxruntime'). */
export const backendChoice = (name: string | undefined): BackendChoice | undefined => BACKENDS.find((b) => b === name);

export interface LoadedTf {
  tf: TF;
  backend: 'tensorflow' | 'wasm' | 'cpu';
  /** one line for the user when auto had to fall back (not an error) */
  notice?: string;
}

let loaded: LoadedTf | undefined;

export class BackendError extends Error {}

let pending: { choice: BackendChoice; promise: Promise<LoadedTf> } | undefined;

/**
 * TF.js with a backend, loaded once per process. Calls made while one is loading share it: two
 * `setBackend` at once (evaluations side by side, alcli study --jobs) leave TF.js with a backend
 * whose kernels read a disposed data store.
 */
export function loadTf(choice: BackendChoice = 'auto'): Promise<LoadedTf> {
  if (loaded && (choice === 'auto' || choice === loaded.backend)) return Promise.resolve(loaded);
  if (pending && (choice === 'auto' || choice === pending.choice)) return pending.promise;
  const promise = startTf(choice).finally(() => {
    if (pending?.promise === promise) pending = undefined;
  });
  pending = { choice, promise };
  return promise;
}

async function startTf(choice: BackendChoice): Promise<LoadedTf> {
  const notices: string[] = [];
  if (choice === 'auto' || choice === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        const tf = (await import(pkg)) as TF;
        tf.enableProdMode();
        return (loaded = { tf, backend: 'tensorflow' });
      } catch (e) {
        notices.push(`${pkg}: ${firstLine(e)}`);
      }
    }
    if (choice === 'tensorflow') throw new BackendError(`the tensorflow backend is not available (${notices.join('; ')}); install @tensorflow/tfjs-node or use --backend wasm`);
  }
  const tf = (await import('@tensorflow/tfjs')) as TF;
  tf.enableProdMode();
  if (choice === 'auto' || choice === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
    wasm.setWasmPaths(dist);
    // setBackend answers false instead of throwing when the module cannot start
    if (await tf.setBackend('wasm')) return (loaded = { tf, backend: 'wasm', notice: auto(choice, notices) });
    if (choice === 'wasm') throw new BackendError('the wasm backend did not start; use --backend cpu');
    notices.push('wasm: did not start');
  }
  await tf.setBackend('cpu');
  return (loaded = { tf, backend: 'cpu', notice: auto(choice, notices) });
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0].slice(0, 120);
const auto = (choice: BackendChoice, notices: string[]) =>
  choice === 'auto' && notices.length ? `note: no native TensorFlow backend (${notices.map((n) => n.split(':')[0]).join(', ')} not loadable); using the portable backend` : undefined;
