// The composition root's first half: configuration → stores → areas. The HTTP app is built on top
// of a Platform, and tests build one the same way.
import path from 'node:path';
import { ensureAdminToken } from '../auth/index.js';
import { createLogger, type Logger, type ServerConfig } from '../core/index.js';
import { AlertService, conceptMonitorKind, driftMonitorKind, MonitorScheduler, performanceMonitorKind, qualityMonitorKind, registerMonitorKind } from '../monitor/index.js';
import { PipelineScheduler, PipelineService } from '../pipeline/index.js';
import { labelsFor, openPredictionLog, type PredictionLog } from '../predlog/index.js';
import { DeploymentTable, RolloutController, type RolloutEvent } from '../rollout/index.js';
import { ModelManager } from '../serving/index.js';
import { FsArtifactStore, openDatabase, type ArtifactStore, type Database } from '../store/index.js';

export interface Platform {
  config: ServerConfig;
  database: Database;
  artifacts: ArtifactStore;
  logger: Logger;
  /** The serving engine: loads model versions and runs inference (closed with the platform). */
  engine: ModelManager;
  /** Served requests of deployments, written before their responses go out (closed with the platform). */
  predictionLog: PredictionLog;
  /** Deployments' live routes: the serving routes' gateway. */
  deployments: DeploymentTable;
  /** Deployment changes and the canary loop (started by openPlatform, stopped by close). */
  rollouts: RolloutController;
  /** Listeners for the rollout controller's own decisions (metrics, alerts). */
  rolloutListeners: Array<(event: RolloutEvent) => void>;
  /** Alert evaluation (monitor results, rollout decisions) and webhook delivery (stopped by close). */
  alerts: AlertService;
  /** Monitors' scheduler: runs due monitors, stores their results and tells its listeners (gauges, alerts); stopped by close. */
  monitors: MonitorScheduler;
  /** Pipelines and their runs (runs under way are waited for by close). */
  pipelines: PipelineService;
  /** Pipelines' schedule and alert triggers (started by openPlatform, stopped by close). */
  pipelineTriggers: PipelineScheduler;
  /** The admin token created on this start, to print once; null when tokens already existed. */
  createdAdminToken: string | null;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it), the artifact store and the serving engine (which loads no
 * model until asked), and makes sure an admin token exists.
 */
export async function openPlatform(config: ServerConfig, logger: Logger = createLogger(config.logLevel)): Promise<Platform> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const artifacts = new FsArtifactStore(path.join(config.dataDir, 'artifacts'));
    const createdAdminToken = await ensureAdminToken(database.db, config.adminToken);
    const engine = new ModelManager({ db: database.db, artifacts, settings: config.serving, logger });
    // On SQLite the log's inserts and commits run on a writer thread with its own connection.
    const predictionLog = openPredictionLog(database, config.predictionLog, {
      dataDir: config.dataDir,
      onError: (error: unknown, what: string) => logger.error({ err: error }, `prediction log ${what} failed`),
    });
    const deployments = new DeploymentTable({ db: database.db, log: predictionLog, logger });
    const rolloutListeners: Array<(event: RolloutEvent) => void> = [];
    const rollouts = new RolloutController({
      db: database.db,
      engine,
      table: deployments,
      logger,
      labelsFor: (deployment, ids) => labelsFor(database.db, deployment, ids),
      onEvent: (event) => { for (const listener of rolloutListeners) listener(event); },
    });
    const alerts = new AlertService({ db: database.db, logger });
    rolloutListeners.push(alerts.onRolloutEvent);
    registerMonitorKind(driftMonitorKind);
    registerMonitorKind(qualityMonitorKind);
    registerMonitorKind(performanceMonitorKind);
    registerMonitorKind(conceptMonitorKind);
    const monitors = new MonitorScheduler({
      db: database.db,
      artifacts,
      logger,
      // A reference built from a dataset gets its prediction profile from the model itself.
      predict: async (model, version, feeds) => (await engine.infer(`${model}@${version}`, feeds)).outputs,
    });
    monitors.onResult(alerts.onMonitorResult);
    const pipelines = new PipelineService({ db: database.db, artifacts, rollouts, logger });
    const pipelineTriggers = new PipelineScheduler({ service: pipelines, logger });
    // Once a result's alert events are recorded, alert triggers are checked at once (not at the next timer tick).
    monitors.onResult(async () => {
      await alerts.settled();
      await pipelineTriggers.tick();
    });
    await pipelines.recoverInterrupted();
    await rollouts.start();
    alerts.start();
    monitors.start();
    pipelineTriggers.start();
    const close = async () => {
      // Pipelines first: a run under way may still register a version or start a rollout.
      await pipelineTriggers.stop();
      await pipelines.stop();
      await rollouts.stop();
      await monitors.stop();
      await alerts.stop();
      // Sessions next: they may still be answering requests that read the database; then the log's last batch.
      await engine.close();
      await predictionLog.close();
      await database.close();
    };
    return { config, database, artifacts, logger, engine, predictionLog, deployments, rollouts, rolloutListeners, alerts, monitors, pipelines, pipelineTriggers, createdAdminToken, close };
  } catch (error) {
    await database.close();
    throw error;
  }
}
