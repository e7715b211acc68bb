package io.sluice.node.telemetry;

import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Refusal;
import java.time.Instant;

/**
 * What one client request was, once it ended: the facts the metrics and the access log are made
 * of. It holds no prompt, no completion and no secret (a key appears only as its public id).
 *
 * @param tenant the tenant id, or null when the request was not authenticated
 * @param model the catalog model it was admitted for, or null when it was not admitted
 * @param deployment the deployment of its last attempt, or null when none was made
 * @param status the HTTP status of the response
 * @param refusal the refusal's kind, or null when served
 * @param errorCode the refusal's code (for example {@code insufficient_quota}), or null
 * @param durationNanos from arrival until the response (a stream's last byte) was done
 * @param firstByteNanos from arrival until the first byte went out, -1 if none did
 * @param streamed whether the response was a stream (then {@code firstByteNanos} is its first token)
 * @param overheadNanos the gateway's own time: not waiting for upstreams
 * @param region this node's region, null until regions exist
 */
public record RequestRecord(Instant timestamp, String requestId, String surface, Operation operation, String tenant,
    String keyId, String model, String deployment, int status, Refusal.Kind refusal, String errorCode, long inputTokens,
    long outputTokens, long costNanos, long durationNanos, long firstByteNanos, boolean streamed, long overheadNanos,
    int attempts, String region) {

  /** The cost in USD. */
  public double costUsd() {
    return costNanos / 1e9;
  }
}
