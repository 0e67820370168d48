/**
 * What the write path counts, as facts: each answer's status (and error code) and
 * each send's time to the command log's acknowledgement. The Lambdas turn them into
 * EMF metrics (emf-metrics.ts); the local adapter has no metrics sink.
 */
export interface WriteMetrics {
  /** One answered request: its status, and for an error its code (`unauthorized`, `unavailable`...). */
  answered(status: number, code?: string): void;
  /** One send to Kafka: connect + send + acks=all, and whether it was acknowledged in time. */
  sent(ms: number, acknowledged: boolean): void;
}

export const noWriteMetrics: WriteMetrics = {
  answered() {},
  sent() {},
};
