/**
 * Public surface of the store layer: the platform's memory, above core alone. Today it holds the
 * checksummed artifact folders that models, pipelines and checkpoints are saved as; tracking, the
 * model registry and lineage build on them.
 */
export { writeArtifactFolder, readArtifactFolder, sha256Hex, bytesOf } from './artifact-folder.js';
export type {
  ArtifactFileEntry, ArtifactFolder, ArtifactFolderContents, CorruptErrorFactory, ReadArtifactOptions, SaveOptions,
} from './artifact-folder.js';
export { ArtifactExistsError, ArtifactCorruptError } from './errors.js';
