/**
 * Model URIs: `models:/<name>@<alias>`, `models:/<name>/<version>` and `runs:/<run id>/<path>`.
 * Parsed strictly (names and paths checked by names.ts); the path of a `runs:/` URI is an artifact
 * path inside the run, never a path on the server.
 */
import { InvalidModelUriError, InvalidNameError } from './errors.js';
import { checkArtifactPath, checkName } from './names.js';

export type ModelUri =
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'version'; name: string; version: number }
  | { kind: 'run'; runId: string; path: string };

export function parseModelUri(uri: string): ModelUri {
  if (typeof uri !== 'string') throw new InvalidModelUriError(String(uri), 'must be a string');
  try {
    let m = /^models:\/([^/@]+)@([^/@]+)$/.exec(uri);
    if (m) return { kind: 'alias', name: checkName('model name', m[1]), alias: checkName('alias', m[2]) };
    m = /^models:\/([^/@]+)\/([^/@]+)$/.exec(uri);
    if (m) {
      if (!/^[1-9]\d{0,9}$/.test(m[2]!)) throw new InvalidModelUriError(uri, `version ${JSON.stringify(m[2])} must be a positive integer`);
      return { kind: 'version', name: checkName('model name', m[1]), version: Number(m[2]) };
    }
    m = /^runs:\/([0-9a-f]{32})\/(.+)$/.exec(uri);
    if (m) return { kind: 'run', runId: m[1]!, path: checkArtifactPath(m[2]) };
    if (/^runs:\//.test(uri)) throw new InvalidModelUriError(uri, 'a runs:/ URI is runs:/<32 hex digit run id>/<artifact path>');
  } catch (err) {
    if (err instanceof InvalidNameError) throw new InvalidModelUriError(uri, err.message);
    throw err;
  }
  throw new InvalidModelUriError(uri, 'unknown form');
}

export const runUri = (runId: string, path: string): string => `runs:/${runId}/${path}`;
