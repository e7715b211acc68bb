package io.sluice.node.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.UpstreamError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.apache.pekko.util.ByteString;

/**
 * Reads and classifies Google's error envelope {@code {"error":{"code","message","status",
 * "details"?}}} (AI Studio and Vertex alike; a body may also be a one-element array of it).
 *
 * <p>The canonical {@code status} decides when it is there, since it says more than the HTTP
 * status: RESOURCE_EXHAUSTED is {@link ErrorClass#RATE_LIMITED} (429), UNAVAILABLE and INTERNAL
 * are {@link ErrorClass#SERVER}, DEADLINE_EXCEEDED is {@link ErrorClass#TIMEOUT},
 * PERMISSION_DENIED and UNAUTHENTICATED are {@link ErrorClass#AUTH}, and INVALID_ARGUMENT,
 * FAILED_PRECONDITION and NOT_FOUND are {@link ErrorClass#CLIENT} — except that AI Studio answers
 * a bad key with 400 INVALID_ARGUMENT and the reason {@code API_KEY_INVALID}, which is AUTH: the
 * deployment's key was refused. Without a status the HTTP status decides.
 *
 * <p>Every string taken from the upstream is redacted of secrets and clipped, because it may be
 * shown to the client and is logged.
 */
final class GeminiErrors {
  static final int MAX_MESSAGE = 500;
  /**
   * Secrets: Google API keys ({@code AIza} and 35 characters), OAuth access tokens
   * ({@code ya29.}), bearer tokens, {@code sk-}/{@code key-} style keys, and values given for a
   * key or token field (as in a URL's {@code ?key=}).
   */
  private static final Pattern SECRET = Pattern.compile(
      "AIza[0-9A-Za-z_-]{20,}|ya29\\.[0-9A-Za-z._~+/=-]+|((?<![A-Za-z0-9])(?:sk|key|pk|rk)[-_]|(?i:bearer\\s+"
          + "|(?:api[-_]?key|x-goog-api-key|key|token|secret|access_token)[\"']?\\s*[:=]\\s*[\"']?))"
          + "[A-Za-z0-9._~+/*=-]{6,}");

  private GeminiErrors() {}

  static UpstreamError parse(int status, ByteString body) {
    JsonNode error = envelope(body);
    String grpc = null;
    String message = null;
    String reason = null;
    if (error != null) {
      grpc = GeminiCodec.text(error, "status");
      message = GeminiCodec.text(error, "message");
      for (JsonNode detail : error.path("details")) {
        if (detail.hasNonNull("reason")) {
          reason = detail.get("reason").asText();
          break;
        }
      }
    } else if (body != null && !body.isEmpty()) {
      message = body.decodeString(StandardCharsets.UTF_8).strip(); // not the envelope (a proxy's page)
    }
    ErrorClass ec = classify(status, grpc, reason);
    int shown = ec == ErrorClass.RATE_LIMITED && status != 429 ? 429 : status;
    return new UpstreamError(shown, ec, clean(grpc), clean(reason), clean(message), null);
  }

  /** The inner error object of the envelope, or null when the body is not one. */
  static JsonNode envelope(ByteString body) {
    if (body == null || body.isEmpty()) {
      return null;
    }
    JsonNode root;
    try {
      root = GeminiCodec.JSON.readTree(body.toArrayUnsafe());
    } catch (IOException e) {
      return null;
    }
    if (root != null && root.isArray() && root.size() == 1) {
      root = root.get(0); // a streamGenerateContent without alt=sse answers errors in an array
    }
    return root != null && root.isObject() && root.path("error").isObject() ? root.get("error") : null;
  }

  static ErrorClass classify(int status, String grpc, String reason) {
    if ("API_KEY_INVALID".equals(reason)) {
      return ErrorClass.AUTH;
    }
    if (grpc != null) {
      switch (grpc) {
        case "RESOURCE_EXHAUSTED":
          return ErrorClass.RATE_LIMITED;
        case "UNAVAILABLE", "INTERNAL", "UNKNOWN", "ABORTED", "DATA_LOSS":
          return ErrorClass.SERVER;
        case "DEADLINE_EXCEEDED":
          return ErrorClass.TIMEOUT;
        case "PERMISSION_DENIED", "UNAUTHENTICATED":
          return ErrorClass.AUTH;
        case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "OUT_OF_RANGE", "ALREADY_EXISTS",
            "UNIMPLEMENTED", "CANCELLED":
          return status >= 400 && status < 500 ? ErrorClass.classify(status) : ErrorClass.CLIENT;
        default:
          break; // a status this was not written for: the HTTP status decides
      }
    }
    if (status >= 200 && status < 300) {
      return ErrorClass.SERVER; // an error envelope under a success status is not a usable answer
    }
    return ErrorClass.classify(status);
  }

  /** Redacted and clipped; null stays null. */
  static String clean(String s) {
    if (s == null) {
      return null;
    }
    String r = redact(s);
    return r.length() <= MAX_MESSAGE ? r : r.substring(0, MAX_MESSAGE) + "…";
  }

  static String redact(String s) {
    return SECRET.matcher(s).replaceAll(m -> m.group(1) == null ? "***" : java.util.regex.Matcher.quoteReplacement(
        m.group(1)) + "***");
  }
}
