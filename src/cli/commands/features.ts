/**
 * `shoal features`: the feature store from the command line. `check-skew VIEW` compares, for a sample
 * of the view's entities, the values a training set built now holds with what the online store
 * serves now (they must be identical) and exits 1 when they differ. Definitions come from the
 * registry (`--registry`, default $SHOAL_HOME/features), or with `--platform-store` from the
 * platform store (SHOAL_METADATA_URL, else $SHOAL_HOME/store; PlatformFeatureRegistry); the Dataset work runs on the cluster that
 * `--address` (else SHOAL_ADDRESS, else `shoal start`) names, or on a local one started for it.
 */
import { Command } from 'commander';
import { init, InvalidOptionError, shutdown } from '../../core/index.js';
import { FeatureStore, PlatformFeatureRegistry, type SkewReport } from '../../features/index.js';
import { openStore, type Store } from '../../store/index.js';
import type { CliContext } from '../cli-context.js';
import { table } from '../format.js';

interface CheckSkewFlags {
  sample: string;
  registry?: string;
  platformStore?: boolean;
  redis?: string;
  prefix?: string;
  address?: string;
  json?: boolean;
}

/** JSON with int64 keys past 2^53 (bigints, see checkSkew) written as their decimal strings. */
const json = (v: unknown, indent?: number): string => JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x), indent);
const show = (v: unknown): string => (v === null || v === undefined ? 'null' : typeof v === 'string' ? JSON.stringify(v) : String(v));

export function renderSkew(r: SkewReport): string {
  const hwm = r.highWaterMarkMs === null ? 'never materialized' : `materialized up to ${new Date(r.highWaterMarkMs).toISOString()}`;
  const head = `view ${r.view} at ${new Date(r.atMs).toISOString()} (${hwm}): ${r.entities} entities × ${r.features.length} features`;
  if (r.identical) return `${head}: identical\n`;
  const rows = [['ENTITY', 'FEATURE', 'HISTORICAL', 'ONLINE'], ...r.mismatches.slice(0, 20).map((m) => [json(m.entity), m.feature, show(m.historical), show(m.online)])];
  const more = r.mismatches.length > 20 ? `… and ${r.mismatches.length - 20} more\n` : '';
  return `${head}: ${r.mismatches.length} values differ\n${table(rows)}\n${more}`;
}

export function featuresCommand(ctx: CliContext): Command {
  const cmd = new Command('features').description('the feature store: check training/serving skew');
  cmd
    .command('check-skew')
    .description('compare historical feature values at now with what the online store serves now, for a sample of entities')
    .argument('<view>', 'feature view to check')
    .option('--sample <n>', 'entities to compare', '1000')
    .option('--registry <dir>', 'feature registry folder (default: $SHOAL_HOME/features)')
    .option('--platform-store', 'read the definitions from the platform store (SHOAL_METADATA_URL, else $SHOAL_HOME/store) instead')
    .option('--redis <url>', 'the Redis online store, redis://host:port/db (default: the in-process store, empty in a new process)')
    .option('--prefix <prefix>', 'key prefix of the Redis online store', 'shoal:fs')
    .option('--address <host:port>', 'cluster to run on (default: SHOAL_ADDRESS, the cluster `shoal start` recorded, else a local one)')
    .option('--json', 'print the report as JSON')
    .action(async (view: string, flags: CheckSkewFlags) => {
      const sample = Number(flags.sample);
      if (!Number.isInteger(sample) || sample < 1) throw new InvalidOptionError(`--sample must be a positive integer; got ${flags.sample}`, { option: '--sample' });
      if (flags.platformStore && flags.registry !== undefined) throw new InvalidOptionError('--registry and --platform-store name two registries; give one', { option: '--platform-store' });
      const platform: Store | undefined = flags.platformStore ? await openStore() : undefined;
      let store: FeatureStore;
      try {
        store = await FeatureStore.fromRegistry({
          ...(platform !== undefined ? { registry: new PlatformFeatureRegistry(platform) } : flags.registry !== undefined ? { registry: flags.registry } : {}),
          ...(flags.redis !== undefined ? { online: { redis: { url: flags.redis, ...(flags.prefix !== undefined ? { prefix: flags.prefix } : {}) } } } : {}),
        });
      } catch (err) {
        await platform?.close();
        throw err;
      }
      try {
        store.catalog.view(view); // an unknown or unusable view fails before a cluster starts
      } catch (err) {
        await store.close();
        await platform?.close();
        throw err;
      }
      await init(flags.address !== undefined ? { address: flags.address } : {});
      try {
        const report = await store.checkSkew(view, { sample });
        ctx.io.stdout(flags.json ? `${json(report, 2)}\n` : renderSkew(report));
        if (!report.identical) ctx.exitCode = 1;
      } finally {
        await store.close();
        await platform?.close();
        await shutdown();
      }
    });
  return cmd;
}
