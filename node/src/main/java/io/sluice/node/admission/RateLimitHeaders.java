package io.sluice.node.admission;

import io.sluice.node.admission.TenantAdmission.Lease;
import io.sluice.persistence.Quantity;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * OpenAI's x-ratelimit-* headers of a tenant on this node, from its limits and leases. It exists
 * apart so that the headers' form changes in one place, not with the quota they report.
 */
final class RateLimitHeaders {
  private RateLimitHeaders() {}

  /** OpenAI's x-ratelimit-* headers for the per-minute limits, as they stand now. */
  static List<HttpHeader> rateLimitHeaders(TenantAdmission t) {
    List<HttpHeader> h = new ArrayList<>(6);
    HttpHeader[] limitHeaders = t.limitHeaders;
    addHeaders(t, h, Quantity.REQUESTS_PER_MINUTE, limitHeaders[0], "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests");
    addHeaders(t, h, Quantity.TOKENS_PER_MINUTE, limitHeaders[1], "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-tokens");
    return h;
  }

  /** The x-ratelimit-limit-* headers of the limits in force, made once per change of limits; null when unlimited. */
  static HttpHeader[] limitHeaders(long[] limits) {
    long requests = limits[Quantity.REQUESTS_PER_MINUTE.ordinal()];
    long tokens = limits[Quantity.TOKENS_PER_MINUTE.ordinal()];
    return new HttpHeader[] {
        requests < 0 ? null : RawHeader.create("x-ratelimit-limit-requests", Long.toString(requests)),
        tokens < 0 ? null : RawHeader.create("x-ratelimit-limit-tokens", Long.toString(tokens))};
  }

  private static void addHeaders(TenantAdmission t, List<HttpHeader> h, Quantity q, HttpHeader limit,
      String remainingName, String resetName) {
    if (limit == null) {
      return;
    }
    WindowClock clock = t.owner.clock();
    h.add(limit);
    h.add(RawHeader.create(remainingName, Long.toString(remaining(t, q))));
    h.add(RawHeader.create(resetName, duration(clock.resetMillis(q.window()) - clock.nowMillis())));
  }

  /** A duration as OpenAI writes it: "850ms", "12s", "6m0s". */
  static String duration(long millis) {
    if (millis < 1000) {
      return Math.max(0, millis) + "ms";
    }
    long s = (millis + 999) / 1000;
    return s < 60 ? s + "s" : (s / 60) + "m" + (s % 60) + "s";
  }

  /** Truthful remaining for the x-ratelimit headers: the limit less everything counted so far. */
  static long remaining(TenantAdmission t, Quantity q) {
    long limit = t.limits[q.ordinal()];
    if (limit < 0) {
      return -1;
    }
    Lease lease = t.leases.get(q.ordinal());
    long spent = lease == null || lease.window < t.owner.clock().current(q.window())
        ? 0 : lease.granted.get() - lease.remaining.get();
    return Math.max(0, limit - t.othersCommitted.get(q.ordinal()) - spent);
  }
}
