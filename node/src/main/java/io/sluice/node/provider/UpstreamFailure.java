package io.sluice.node.provider;

/**
 * An upstream exchange that failed before a usable response: the connection could not be made,
 * or the upstream did not answer in time. Its message names the deployment and what happened,
 * without secrets; the pipeline reports it in the refusal after its last attempt.
 */
public final class UpstreamFailure extends RuntimeException {
  /** How the exchange failed; {@link ErrorClass#of} gives its class (both count against the deployment). */
  public enum Kind { CONNECT, TIMEOUT }

  private final Kind kind;

  public UpstreamFailure(Kind kind, String deployment, String detail) {
    super(deployment + ": " + detail, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
