package io.sluice.node.inference;

/**
 * The client's per-request controls (the {@code x-sluice-*} headers), already validated.
 *
 * @param requestId the id echoed in {@code x-sluice-request-id} and logged
 * @param maxAttempts attempts allowed in all, the first included
 * @param deadlineNanos the {@link System#nanoTime()} by which the request must be answered
 * @param pinned the deployment the client pinned, or null
 */
public record Controls(String requestId, int maxAttempts, long deadlineNanos, String pinned) {}
