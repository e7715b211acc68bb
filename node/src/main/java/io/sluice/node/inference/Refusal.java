package io.sluice.node.inference;

import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;

/**
 * Why the gateway did not serve a request, in no client protocol's terms. The pipeline and the
 * layers below it refuse only with this; each surface renders it in its own envelope (OpenAI's
 * {@code {"error":{...}}}, Anthropic's {@code {"type":"error",...}}) with its own status and type
 * names.
 *
 * @param status the HTTP status every surface answers with
 * @param code a stable machine-readable code (OpenAI's {@code code}, e.g. {@code model_not_found}),
 *     or null
 * @param param the offending request field, or null
 * @param detailType a finer error type than the kind's: the upstream's own type when the client
 *     speaks the upstream's protocol (passed on as it came), or for a rate limit the limited resource
 *     ({@code requests} or {@code tokens}); null otherwise
 * @param retryAfterSeconds the Retry-After to send, 0 for none
 * @param headers further headers (the tenant's rate-limit state), empty when none
 */
public record Refusal(Kind kind, int status, String message, String code, String param, String detailType,
    long retryAfterSeconds, List<HttpHeader> headers) {

  /** What kind of refusal it is; the surfaces choose their error type by it. */
  public enum Kind {
    /** 400: the request is malformed or asks for something impossible. */
    INVALID_REQUEST,
    /** 401: no key, an unknown, revoked or expired key, or a disabled tenant. */
    UNAUTHENTICATED,
    /** 403: the key's tenant may not do this (a model it is not allowed). */
    FORBIDDEN,
    /** 404: no such model or path. */
    NOT_FOUND,
    /** 408: the request body did not arrive in time. */
    REQUEST_TIMEOUT,
    /** 413: the body is over the limit. */
    TOO_LARGE,
    /** 429: a rate (requests, tokens, concurrency): worth retrying after Retry-After. */
    RATE_LIMITED,
    /** 429: a spend budget is spent: not worth retrying before the window resets. */
    BUDGET_EXHAUSTED,
    /** The upstream refused the request itself (a 4xx of its own), passed on with its status. */
    UPSTREAM_REFUSED,
    /** 502: every attempt failed. */
    UPSTREAM_FAILED,
    /** 504: the last attempt timed out. */
    UPSTREAM_TIMEOUT,
    /** 503: nothing could take the request now (no deployment, or the tenant store is not answering). */
    UNAVAILABLE,
    /** 500: the gateway itself failed. */
    INTERNAL
  }

  public Refusal {
    headers = List.copyOf(headers);
  }

  public static Refusal of(Kind kind, int status, String message, String code, String param) {
    return new Refusal(kind, status, message, code, param, null, 0, List.of());
  }

  public static Refusal invalid(String message, String param) {
    return of(Kind.INVALID_REQUEST, 400, message, null, param);
  }

  public static Refusal unauthenticated() {
    return of(Kind.UNAUTHENTICATED, 401, "Incorrect or missing API key. Pass a Sluice key as"
        + " 'Authorization: Bearer sk-sluice...' (or 'x-api-key' on /v1/messages).", "invalid_api_key", null);
  }

  public static Refusal modelNotAllowed(String model) {
    return of(Kind.FORBIDDEN, 403, "This key's tenant may not use the model '" + model + "'.", "model_not_allowed",
        "model");
  }

  public static Refusal modelNotFound(String model) {
    return of(Kind.NOT_FOUND, 404, "The model '" + model + "' does not exist.", "model_not_found", "model");
  }

  public static Refusal notFound(String message) {
    return of(Kind.NOT_FOUND, 404, message, "not_found", null);
  }

  public static Refusal tooLarge(long limit) {
    return of(Kind.TOO_LARGE, 413, "Request body is larger than the limit of " + limit + " bytes.",
        "request_too_large", null);
  }

  public static Refusal internal() {
    return of(Kind.INTERNAL, 500, "The gateway failed to handle the request.", null, null);
  }

  /** The same refusal with a Retry-After. */
  public Refusal retryAfter(long seconds) {
    return new Refusal(kind, status, message, code, param, detailType, seconds, headers);
  }

  /** The same refusal with {@code more} headers. */
  public Refusal withHeaders(List<HttpHeader> more) {
    if (more.isEmpty()) {
      return this;
    }
    List<HttpHeader> all = new java.util.ArrayList<>(headers);
    all.addAll(more);
    return new Refusal(kind, status, message, code, param, detailType, retryAfterSeconds, all);
  }

  /** Whether retrying cannot help before a budget window resets (the SDKs get x-should-retry: false). */
  public boolean final429() {
    return kind == Kind.BUDGET_EXHAUSTED;
  }

  /** This refusal as an exception, for failing a stage; it captures no stack trace. */
  public Refused toException() {
    return new Refused(this);
  }

  /** A {@link Refusal} travelling as an exception through a future. */
  public static final class Refused extends RuntimeException {
    private final transient Refusal refusal;

    public Refused(Refusal refusal) {
      super(refusal.message(), null, false, false);
      this.refusal = refusal;
    }

    public Refusal refusal() {
      return refusal;
    }
  }
}
