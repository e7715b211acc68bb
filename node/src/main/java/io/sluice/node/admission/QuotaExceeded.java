package io.sluice.node.admission;

import io.sluice.node.inference.Refusal;
import io.sluice.persistence.Quantity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.http.javadsl.model.HttpHeader;

/**
 * A request refused for quota: 429 for a rate (requests, tokens, concurrency: worth retrying
 * after Retry-After) or for a spend budget (not worth retrying before the window resets), 503
 * when the tenant store cannot be asked, each with the tenant's rate-limit headers.
 */
public final class QuotaExceeded extends RuntimeException {
  private final transient Refusal refusal;

  private QuotaExceeded(Refusal refusal) {
    super(refusal.message(), null, false, false);
    this.refusal = refusal;
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
    String limitText = budget ? String.format(Locale.ROOT, "$%.2f", limit / 1e9) : String.valueOf(limit);
    String message = (budget ? "You exceeded your budget for " : "Rate limit reached for ") + what
        + ": limit " + limitText + ". Please try again in " + retry + "s.";
    Refusal refusal = budget
        ? new Refusal(Refusal.Kind.BUDGET_EXHAUSTED, 429, message, "insufficient_quota", null, null, retry, List.of())
        : new Refusal(Refusal.Kind.RATE_LIMITED, 429, message, "rate_limit_exceeded", null,
            q == Quantity.REQUESTS_PER_MINUTE ? "requests" : "tokens", retry, List.of());
    return new QuotaExceeded(refusal);
  }

  /** A key's own rate limit ({@link KeyLimiter}): refused like the tenant's, the message says it is the key's. */
  public static QuotaExceeded ofKey(Quantity q, long limit, Instant resetAt, Instant now) {
    Refusal r = of(q, limit, resetAt, now).refusal;
    return new QuotaExceeded(new Refusal(r.kind(), r.status(), "This key's own limit: " + r.message(), r.code(),
        r.param(), r.detailType(), r.retryAfterSeconds(), r.headers()));
  }

  public static QuotaExceeded concurrency(long limit, long retryAfterSeconds) {
    return new QuotaExceeded(new Refusal(Refusal.Kind.RATE_LIMITED, 429, "Concurrent request limit of " + limit
        + " reached; retry when a request finishes.", "rate_limit_exceeded", null, "requests", retryAfterSeconds,
        List.of()));
  }

  /** The tenant store (entity, journal) does not answer and the node holds no lease that covers the request. */
  public static QuotaExceeded storeUnavailable() {
    return new QuotaExceeded(Refusal.of(Refusal.Kind.UNAVAILABLE, 503, "Quota cannot be checked right now (the"
        + " tenant store does not answer) and this node holds no lease that covers the request; retry shortly.",
        "quota_store_unavailable", null).retryAfter(1));
  }

  /** The tenant was disabled while the request waited for quota. */
  public static QuotaExceeded tenantGone() {
    return new QuotaExceeded(Refusal.unauthenticated());
  }

  /** Attaches the tenant's x-ratelimit-* headers to the refusal. */
  QuotaExceeded withHeaders(List<HttpHeader> headers) {
    return new QuotaExceeded(refusal.withHeaders(headers));
  }

  public Refusal refusal() {
    return refusal;
  }
}
