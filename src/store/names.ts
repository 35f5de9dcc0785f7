/**
 * The names clients give the store: artifact paths, model, alias and experiment names, param, metric
 * and tag keys. None of them ever becomes a server path (artifacts are stored by content hash), and
 * each is kept plain anyway: the checks refuse `..` and `.` segments, backslashes, percent-encoding,
 * absolute paths, drive letters, control characters — what path-traversal attacks on MLflow used
 * (CVE-2023-1177, -2356, -6730).
 */
import { InvalidNameError } from './errors.js';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+=-]*$/;
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-/ ]{0,249}$/;

/**
 * An artifact path: `/`-separated segments of letters, digits and `._+=-`, none starting with a dot,
 * at most 512 characters. Returns it unchanged, or throws {@link InvalidNameError}.
 */
export function checkArtifactPath(path: unknown): string {
  const fail = (rule: string): never => {
    throw new InvalidNameError('artifact path', String(path), rule);
  };
  if (typeof path !== 'string' || path === '') return fail('must be a non-empty string');
  if (path.length > 512) fail('must be at most 512 characters');
  if (path.includes('\\')) fail('backslashes are not allowed (use / between folders)');
  if (path.includes('%')) fail('percent-encoding is not allowed');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) fail('must be relative (no leading / or drive letter)');
  for (const seg of path.split('/')) {
    if (seg === '..' || seg === '.') fail(`'${seg}' segments are not allowed`);
    if (seg === '') fail('empty segments (// or a trailing /) are not allowed');
    if (!SEGMENT.test(seg)) fail(`segment ${JSON.stringify(seg)} must be letters, digits and ._+=- , not starting with a dot`);
  }
  return path;
}

/** A model, alias or experiment name: letters, digits and `._-`, starting with a letter or digit, at most 128 characters. */
export function checkName(kind: 'model name' | 'alias' | 'experiment name' | 'dataset name', name: unknown): string {
  if (typeof name !== 'string' || !PLAIN.test(name)) {
    throw new InvalidNameError(kind, String(name), 'must be 1-128 letters, digits and ._- , starting with a letter or digit');
  }
  if (kind === 'alias' && /^v?\d+$/.test(name)) throw new InvalidNameError(kind, name, 'must not look like a version number');
  return name;
}

/** A param, metric or tag key: letters, digits, `_.-/` and spaces, at most 250 characters. */
export function checkKey(kind: 'param' | 'metric' | 'tag', key: unknown): string {
  if (typeof key !== 'string' || !KEY.test(key) || key.split('/').some((s) => s === '..')) {
    throw new InvalidNameError(`${kind} key`, String(key), 'must be 1-250 letters, digits, _ . - / and spaces, starting with a letter, digit or _');
  }
  return key;
}
