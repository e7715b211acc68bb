package io.sluice.node.provider;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads how long an upstream asks us to wait before the next request, from {@code Retry-After}
 * (delta-seconds or an HTTP-date, RFC 9110 §10.2.3) or OpenAI's {@code retry-after-ms}. It
 * exists so that the retry policy gets a plain {@link Duration} and never parses headers.
 *
 * <p>Anything that is not a valid value (garbage, a negative number, an empty string) is treated
 * as absent, never as an error: a broken header must not break a request. A date in the past
 * means "now" ({@link Duration#ZERO}). Values too large for a {@link Duration} are clamped to the
 * largest one, which no deadline fits.
 */
public final class RetryAfter {
  /** The header names, as upstreams send them (HTTP header names are case-insensitive). */
  public static final String RETRY_AFTER = "retry-after";
  public static final String RETRY_AFTER_MS = "retry-after-ms";

  private static final Pattern NUMBER = Pattern.compile("\\d+(\\.\\d+)?");
  private static final BigDecimal MAX_SECONDS = BigDecimal.valueOf(Long.MAX_VALUE);
  private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);
  private static final BigDecimal MILLIS_PER_SECOND = BigDecimal.valueOf(1_000L);
  private static final Duration LONGEST = Duration.ofSeconds(Long.MAX_VALUE);

  private RetryAfter() {}

  /**
   * The wait a {@code Retry-After} value asks for: delta-seconds ({@code "120"}, a fraction is
   * tolerated) or an HTTP-date ({@code "Wed, 21 Oct 2015 07:28:00 GMT"}) relative to {@code now}.
   */
  public static Optional<Duration> parse(String headerValue, Instant now) {
    if (headerValue == null) {
      return Optional.empty();
    }
    String v = headerValue.trim();
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (NUMBER.matcher(v).matches()) {
      return Optional.of(seconds(new BigDecimal(v)));
    }
    try {
      Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return Optional.of(at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO);
    } catch (DateTimeParseException notADate) {
      return Optional.empty();
    }
  }

  /** The wait a {@code retry-after-ms} value asks for: non-negative milliseconds, a fraction tolerated. */
  public static Optional<Duration> parseMillis(String headerValue) {
    if (headerValue == null) {
      return Optional.empty();
    }
    String v = headerValue.trim();
    if (!NUMBER.matcher(v).matches()) {
      return Optional.empty();
    }
    return Optional.of(seconds(new BigDecimal(v).divide(MILLIS_PER_SECOND)));
  }

  /**
   * The wait an upstream response asks for, preferring {@code retry-after-ms} (more precise, as
   * OpenAI's SDKs do) and falling back to {@code Retry-After}.
   *
   * @param header looks a header up by name, e.g. {@code n -> response.getHeader(n).map(HttpHeader::value)}
   */
  public static Optional<Duration> fromHeaders(Function<String, Optional<String>> header, Instant now) {
    Optional<Duration> ms = header.apply(RETRY_AFTER_MS).flatMap(RetryAfter::parseMillis);
    return ms.isPresent() ? ms : header.apply(RETRY_AFTER).flatMap(v -> parse(v, now));
  }

  private static Duration seconds(BigDecimal seconds) {
    if (seconds.compareTo(MAX_SECONDS) >= 0) {
      return LONGEST;
    }
    BigDecimal whole = new BigDecimal(seconds.toBigInteger());
    long nanos = seconds.subtract(whole).multiply(NANOS_PER_SECOND).longValue();
    return Duration.ofSeconds(whole.longValueExact(), nanos);
  }
}
