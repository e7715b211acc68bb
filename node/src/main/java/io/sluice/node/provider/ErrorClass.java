package io.sluice.node.provider;

/**
 * What kind of failure an upstream exchange ended in. It exists so that every decision that
 * depends on a failure (retry or not, count it against the deployment's health or not, open the
 * tenant's circuit or not) reads one classification instead of re-inspecting status codes.
 *
 * <ul>
 *   <li>{@link #CLIENT}: a 4xx other than 401, 403, 408 and 429. The request itself is wrong;
 *       another attempt would fail the same way.
 *   <li>{@link #AUTH}: 401 or 403. The key used for this deployment was refused; specific to the
 *       tenant and deployment, not a sign of the deployment's health.
 *   <li>{@link #RATE_LIMITED}: 429. The upstream's rate limit for this key; retryable elsewhere
 *       or later, specific to the tenant and deployment.
 *   <li>{@link #SERVER}: 5xx, or any other status that is not a usable answer.
 *   <li>{@link #TIMEOUT}: no answer in time (including 408 from the upstream).
 *   <li>{@link #CONNECT}: no connection could be made.
 * </ul>
 */
public enum ErrorClass {
  CLIENT(false, false, false),
  AUTH(false, false, true),
  RATE_LIMITED(true, false, true),
  SERVER(true, true, false),
  TIMEOUT(true, true, false),
  CONNECT(true, true, false);

  private final boolean retryable;
  private final boolean countsAgainstDeployment;
  private final boolean tenantSpecific;

  ErrorClass(boolean retryable, boolean countsAgainstDeployment, boolean tenantSpecific) {
    this.retryable = retryable;
    this.countsAgainstDeployment = countsAgainstDeployment;
    this.tenantSpecific = tenantSpecific;
  }

  /**
   * The class of an upstream HTTP status that is not a success. Statuses outside 4xx and 5xx
   * (an unexpected 1xx or 3xx, or a nonsense code) are not a usable answer, so they are
   * {@link #SERVER}.
   *
   * @throws IllegalArgumentException for a 2xx status, which is not a failure
   */
  public static ErrorClass classify(int status) {
    if (status >= 200 && status < 300) {
      throw new IllegalArgumentException("HTTP " + status + " is a success, not an error");
    }
    return switch (status) {
      case 401, 403 -> AUTH;
      case 408 -> TIMEOUT;
      case 429 -> RATE_LIMITED;
      default -> status >= 400 && status < 500 ? CLIENT : SERVER;
    };
  }

  /** The class of an exchange that failed before any response arrived. */
  public static ErrorClass of(UpstreamFailure.Kind kind) {
    return switch (kind) {
      case CONNECT -> CONNECT;
      case TIMEOUT -> TIMEOUT;
    };
  }

  /** Whether another attempt (later, or on another deployment) may succeed. */
  public boolean retryable() {
    return retryable;
  }

  /** Whether it says something about the deployment's health for every tenant. */
  public boolean countsAgainstDeployment() {
    return countsAgainstDeployment;
  }

  /** Whether it concerns one tenant's use of one deployment (that tenant's circuit), not everyone's. */
  public boolean tenantSpecific() {
    return tenantSpecific;
  }
}
