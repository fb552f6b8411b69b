// Public API of the rollout area: deployments (stable names routing to model versions by weight),
// rollout strategies (canary with automatic analysis and rollback, A/B, shadow, blue-green), their
// revisions, the live gateway the serving routes call, and the HTTP routes.
export { STRATEGIES, CANARY_DEFAULTS, initialSpec, manualRoutes, stableModel, checkRolloutRequest } from './spec.js';
export type { Strategy, Route, RouteRole, CanaryThresholds, AnalysisCheck, AnalysisResult, Rollout, RolloutEnd, DeploymentSpec, RolloutRequest, Sticky } from './spec.js';
export { createDeployment, getDeployment, listDeployments, deleteDeployment, changeDeployment, listRevisions } from './deployments.js';
export type { Deployment, DeploymentRevision } from './deployments.js';
export { DeploymentTable, LiveDeployment, stickyBucket, firstPrediction } from './gateway.js';
export type { DeploymentTableOptions } from './gateway.js';
export { RolloutController } from './controller.js';
export type { RolloutControllerOptions, RolloutEvent, DeploymentAnalysis } from './controller.js';
export { deploymentRoutes } from './routes.js';
export type { DeploymentRoutesOptions } from './routes.js';
