package io.sluice.node.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.UpstreamError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.util.ByteString;

/**
 * Reads and classifies Bedrock's errors: the body is {@code {"message"}} and the error's name comes
 * in the {@code x-amzn-ErrorType} header ({@code ThrottlingException:http://internal.amazon.com/...};
 * the part before the colon), or else in the body's {@code __type}
 * ({@code com.amazon.coral...#ThrottlingException}; the part after the hash).
 *
 * <p>The name decides the class, whatever the status:
 * <ul>
 *   <li>{@code ThrottlingException} and {@code ServiceQuotaExceededException}: RATE_LIMITED (429);
 *   <li>{@code ValidationException}, {@code ResourceNotFoundException}, {@code ModelErrorException}:
 *       CLIENT;
 *   <li>{@code AccessDeniedException} and the signature and token errors
 *       ({@code UnrecognizedClientException}, {@code InvalidSignatureException},
 *       {@code SignatureDoesNotMatch}, {@code IncompleteSignature}, {@code MissingAuthenticationToken},
 *       {@code ExpiredTokenException}): AUTH (403), the deployment's credentials refused;
 *   <li>{@code ModelTimeoutException}: TIMEOUT (AWS answers 408; after retries the client gets 504);
 *   <li>{@code ServiceUnavailableException}, {@code InternalServerException}: SERVER;
 *   <li>{@code ModelNotReadyException} (AWS answers 429): SERVER, so it is retried and counts against
 *       the deployment's health rather than the tenant's circuit: the model is not ready for anyone.
 * </ul>
 * A name it does not know, or no name, is classified by status ({@link ErrorClass#classify}).
 *
 * <p>Every string taken from the upstream is redacted of secrets and clipped: AWS access key ids
 * ({@code AKIA...}, {@code ASIA...}), Bedrock API keys ({@code ABSK...}, {@code bedrock-api-key-...}),
 * bearer tokens and values given for key, token, secret or signature fields.
 */
final class BedrockErrors {
  static final int MAX_MESSAGE = 500;
  private static final Pattern SECRET = Pattern.compile(
      "(?<![A-Za-z0-9])(?:(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,}|ABSK[A-Za-z0-9+/=]{8,}|bedrock-api-key-[A-Za-z0-9+/=_.%-]{8,})"
          + "|(?i)(bearer\\s+|(?:api[-_]?key|token|secret|signature|credential)[\"']?\\s*[:=]\\s*[\"']?)"
          + "[A-Za-z0-9._~+/*=-]{6,}");

  private BedrockErrors() {}

  static UpstreamError parse(int status, Function<String, Optional<String>> header, ByteString body) {
    String type = header.apply("x-amzn-ErrorType").map(BedrockErrors::beforeColon).orElse(null);
    String message = null;
    JsonNode root;
    try {
      root = body == null || body.isEmpty() ? null : BedrockCodec.JSON.readTree(body.toArrayUnsafe());
    } catch (IOException e) {
      root = null;
    }
    if (root != null && root.isObject()) {
      message = BedrockCodec.text(root, "message");
      if (message == null) {
        message = BedrockCodec.text(root, "Message");
      }
      String bodyType = BedrockCodec.text(root, "__type");
      if (type == null && bodyType != null) {
        type = beforeColon(bodyType.substring(bodyType.lastIndexOf('#') + 1));
      }
    } else if (body != null && !body.isEmpty()) {
      message = body.decodeString(StandardCharsets.UTF_8).strip(); // not JSON (a proxy's page)
    }
    if (type != null && type.isEmpty()) {
      type = null;
    }
    return new UpstreamError(status, classify(status, type), clean(type), null, clean(message), null);
  }

  static ErrorClass classify(int status, String type) {
    if (type != null) {
      switch (type) {
        case "ThrottlingException", "ServiceQuotaExceededException" -> {
          return ErrorClass.RATE_LIMITED;
        }
        case "ValidationException", "ResourceNotFoundException", "ModelErrorException" -> {
          return ErrorClass.CLIENT;
        }
        case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
            "SignatureDoesNotMatch", "SignatureDoesNotMatchException", "IncompleteSignature",
            "IncompleteSignatureException", "MissingAuthenticationToken", "MissingAuthenticationTokenException",
            "ExpiredTokenException" -> {
          return ErrorClass.AUTH;
        }
        case "ModelTimeoutException" -> {
          return ErrorClass.TIMEOUT;
        }
        case "ServiceUnavailableException", "InternalServerException", "ModelNotReadyException" -> {
          return ErrorClass.SERVER;
        }
        default -> { } // a name added after this was written: the status decides
      }
    }
    if (status >= 200 && status < 300) {
      return ErrorClass.SERVER; // an error under a success status is not a usable answer
    }
    return ErrorClass.classify(status);
  }

  private static String beforeColon(String s) {
    int colon = s.indexOf(':');
    return (colon < 0 ? s : s.substring(0, colon)).strip();
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
    return SECRET.matcher(s).replaceAll(m -> m.group(1) == null ? "***" : java.util.regex.Matcher.quoteReplacement(m.group(1)) + "***");
  }
}
