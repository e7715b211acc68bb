package io.sluice.node.admission;

import io.sluice.node.api.OpenAiError;
import io.sluice.persistence.Quantity;
import java.time.Duration;
import java.time.Instant;

/**
 * A request refused for quota: 429 with OpenAI's {@code rate_limit_exceeded} (a rate: requests,
 * tokens, concurrency) or {@code insufficient_quota} (a spend budget), and the seconds until it is
 * worth retrying.
 */
public final class QuotaExceeded extends RuntimeException {
  private final transient OpenAiError error;
  private final long retryAfterSeconds;
  private transient java.util.List<org.apache.pekko.http.javadsl.model.HttpHeader> headers = java.util.List.of();

  private QuotaExceeded(OpenAiError error, long retryAfterSeconds) {
    super(error.message(), null, false, false);
    this.error = error;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static QuotaExceeded of(Quantity q, long limit, Instant resetAt, Instant now) {
    long retry = Math.max(1, (Duration.between(now, resetAt).toMillis() + 999) / 1000);
    String what = switch (q) {
      case REQUESTS_PER_MINUTE -> "requests per minute (RPM)";
      case TOKENS_PER_MINUTE -> "tokens per minute (TPM)";
      case TOKENS_PER_DAY -> "tokens per day (TPD)";
      case SPEND_PER_DAY -> "spend per day";
      case SPEND_PER_MONTH -> "spend per month";
    };
    boolean budget = q == Quantity.SPEND_PER_DAY || q == Quantity.SPEND_PER_MONTH;
    String limitText = budget ? String.format(java.util.Locale.ROOT, "$%.2f", limit / 1e9) : String.valueOf(limit);
    String message = (budget ? "You exceeded your budget for " : "Rate limit reached for ") + what
        + ": limit " + limitText + ". Please try again in " + retry + "s.";
    OpenAiError error = budget
        ? new OpenAiError(429, message, "insufficient_quota", null, "insufficient_quota")
        : new OpenAiError(429, message, q == Quantity.REQUESTS_PER_MINUTE ? "requests" : "tokens", null,
            "rate_limit_exceeded");
    return new QuotaExceeded(error, retry);
  }

  public static QuotaExceeded concurrency(long limit, long retryAfterSeconds) {
    return new QuotaExceeded(new OpenAiError(429, "Concurrent request limit of " + limit
        + " reached; retry when a request finishes.", "requests", null, "rate_limit_exceeded"), retryAfterSeconds);
  }

  /** The tenant store (entity, journal) does not answer and the node holds no lease that covers the request. */
  public static QuotaExceeded storeUnavailable() {
    return new QuotaExceeded(new OpenAiError(503, "Quota cannot be checked right now (the tenant store does not "
        + "answer) and this node holds no lease that covers the request; retry shortly.", "server_error", null,
        "quota_store_unavailable"), 1);
  }

  /** The tenant was disabled while the request waited for quota. */
  public static QuotaExceeded tenantGone() {
    return new QuotaExceeded(OpenAiError.invalidApiKey(), 0);
  }

  /** Attaches the tenant's x-ratelimit-* headers to the 429. */
  QuotaExceeded withHeaders(java.util.List<org.apache.pekko.http.javadsl.model.HttpHeader> headers) {
    this.headers = headers;
    return this;
  }

  public java.util.List<org.apache.pekko.http.javadsl.model.HttpHeader> headers() {
    return headers;
  }

  public OpenAiError error() {
    return error;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
