package io.sluice.node.provider;

import io.sluice.node.api.OpenAiError;

/**
 * An upstream exchange that failed before a usable response: the connection could not be made,
 * or the upstream did not answer in time. Carries what the client is told, without secrets.
 */
public final class UpstreamFailure extends RuntimeException {
  /** How the exchange failed; {@link ErrorClass#of} gives its class (both count against the deployment). */
  public enum Kind { CONNECT, TIMEOUT }

  private final Kind kind;
  private final transient OpenAiError error;

  public UpstreamFailure(Kind kind, String deployment, String detail) {
    super(deployment + ": " + detail, null, false, false);
    this.kind = kind;
    this.error = switch (kind) {
      case CONNECT -> OpenAiError.upstreamUnavailable("deployment '" + deployment + "': " + detail);
      case TIMEOUT -> OpenAiError.upstreamTimeout("deployment '" + deployment + "': " + detail);
    };
  }

  public Kind kind() {
    return kind;
  }

  public OpenAiError error() {
    return error;
  }
}
