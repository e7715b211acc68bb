package io.sluice.node.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.UpstreamError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.apache.pekko.util.ByteString;

/**
 * Reads and classifies Anthropic's error envelope {@code {"type":"error","error":{"type",
 * "message","details"?},"request_id"}}.
 *
 * <p>Classification is {@link ErrorClass#classify}'s, with what the body says on top of it:
 * <ul>
 *   <li>529 and {@code overloaded_error} (whatever the status) are {@link ErrorClass#SERVER}: the
 *       API is overloaded for everyone, which is worth retrying and says something about the
 *       deployment's health.
 *   <li>A spent account limit is {@link ErrorClass#AUTH}: a 429 with {@code error.details.error_code
 *       = enforced_spend_limit_reached} (the usage tier's monthly cap), the 400 that says "You have
 *       reached your specified [workspace] API usage limits" (a cap set on the organisation or
 *       workspace), and a 402 {@code billing_error}. Each fails the same way until the month turns
 *       or someone raises the limit, so it must not be retried as a rate limit would be; like a
 *       refused key it belongs to the credentials of this deployment and not to the deployment's
 *       health; and, unlike {@link ErrorClass#CLIENT}, AUTH opens the circuit, so later requests
 *       stop being sent to a key that cannot be served.
 * </ul>
 *
 * <p>Every string taken from the upstream (type, code and message) is redacted of secrets and
 * clipped, because it may be shown to the client and is logged.
 */
final class AnthropicErrors {
  static final int MAX_MESSAGE = 500;
  private static final Pattern SPEND_LIMIT =
      Pattern.compile("(?i)reached your specified (?:workspace )?API usage limits|spend limit");
  /**
   * Secrets: Anthropic keys ({@code sk-ant-api03-...}), any {@code sk-}/{@code key-} style key as
   * OpenAI's adapter redacts them, bearer tokens, and values given for an api key or token field.
   */
  private static final Pattern SECRET = Pattern.compile(
      "(?i)(sk-ant-|(?<![A-Za-z0-9])(?:sk|key|pk|rk)[-_]|bearer\\s+|(?:api[-_]?key|x-api-key|token|secret)"
          + "[\"']?\\s*[:=]\\s*[\"']?)[A-Za-z0-9._~+/*=-]{6,}");

  private AnthropicErrors() {}

  static UpstreamError parse(int status, ByteString body) {
    String type = null;
    String code = null;
    String message = null;
    JsonNode root = null;
    try {
      root = body == null || body.isEmpty() ? null : AnthropicCodec.JSON.readTree(body.toArrayUnsafe());
    } catch (IOException e) {
      root = null;
    }
    if (root != null && root.isObject() && root.path("error").isObject()) {
      JsonNode error = root.get("error");
      type = AnthropicCodec.text(error, "type");
      message = AnthropicCodec.text(error, "message");
      JsonNode details = error.path("details");
      if (details.isObject()) {
        code = AnthropicCodec.text(details, "error_code");
      }
    } else if (body != null && !body.isEmpty()) {
      message = body.decodeString(StandardCharsets.UTF_8).strip(); // not the envelope (a proxy's page)
    }
    return new UpstreamError(status, classify(status, type, code, message), clean(type), clean(code),
        clean(message), null);
  }

  static ErrorClass classify(int status, String type, String code, String message) {
    if ("enforced_spend_limit_reached".equals(code) || "billing_error".equals(type)
        || ((status == 429 || status == 400) && message != null && SPEND_LIMIT.matcher(message).find())) {
      return ErrorClass.AUTH;
    }
    if (status == 529 || "overloaded_error".equals(type)) {
      return ErrorClass.SERVER;
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
    return SECRET.matcher(s).replaceAll("$1***");
  }
}
