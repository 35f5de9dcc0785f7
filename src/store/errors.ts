/**
 * Errors of the store layer. Each extends {@link ShoalError} with a stable `code`, readonly
 * context naming the folder or file, and works with `instanceof` across realms.
 */
import { markErrorClasses, ShoalError } from '../core/index.js';

/**
 * Thrown when saving an artifact folder (a model, a pipeline) to a path that already holds one (or
 * any file): nothing is written. Pass `{ overwrite: true }` to replace it.
 */
export class ArtifactExistsError extends ShoalError {
  override readonly code = 'ARTIFACT_EXISTS';
  constructor(readonly path: string) {
    super(`${path} already exists and is not empty; pass { overwrite: true } to replace it`);
  }
  override context() {
    return { path: this.path };
  }
}

/**
 * Thrown when an artifact folder cannot be read back as it was written: its manifest is missing or
 * not JSON, a file it lists is missing, of another length, or fails its sha256. `path` names the
 * file at fault. Layers that own a format pass their own error (e.g. `ModelFormatError`) instead.
 */
export class ArtifactCorruptError extends ShoalError {
  override readonly code = 'ARTIFACT_CORRUPT';
  constructor(readonly path: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`${path}: ${detail}`, options);
  }
  override context() {
    return { path: this.path, detail: this.detail };
  }
}

markErrorClasses('shoal/store', { ArtifactExistsError, ArtifactCorruptError });
