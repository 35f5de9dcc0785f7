/** What a replica's `call` method receives for an HTTP request, and what the ingress records. */

/** One HTTP request as a replica sees it (plain data: it crosses to the replica's thread). */
export interface ServeRequest {
  /** The id in the `x-request-id` response header and in every log line about the request. */
  requestId: string;
  /** HTTP method (`GET`, `POST`, ...). */
  method: string;
  /** Path after the deployment's route prefix (`/42` for `GET /recommendations/42`). */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body (undefined when there is none). */
  body: unknown;
  /** The routing key (user id) that keeps a user in one rollout arm. */
  key: string;
  /**
   * The user is in the holdout slice (DeployOptions.holdoutPercent): answer the non-personalised
   * ranking (e.g. the most popular items). Absent otherwise.
   */
  holdout?: boolean;
}

/** One answered request, as the exposure log stores it. */
export interface ExposureRecord {
  requestId: string;
  /** Milliseconds since the epoch. */
  timeMs: number;
  user: string;
  /** Items shown, in order (the answer's `items[].id`, or `items` when they are ids). */
  items: string[];
  modelVersion: string;
  /** `stable`, `canary` or `holdout`. */
  arm: string;
  /** The shown items' scores, in the same order, when the answer gave every item a numeric `score` (output drift reads them). */
  scores?: number[] | null | undefined;
}
