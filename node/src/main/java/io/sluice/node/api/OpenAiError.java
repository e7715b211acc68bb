package io.sluice.node.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * An error as OpenAI sends it: {@code {"error": {"message", "type", "param", "code"}}} with its
 * HTTP status. Every failure a client can cause leaves the gateway in this shape, so any OpenAI
 * SDK shows it as it would show OpenAI's own. Messages never carry secrets or stack traces.
 */
public record OpenAiError(int status, String message, String type, String param, String code) {
  private static final JsonFactory JSON = new JsonFactory();

  public static OpenAiError invalidRequest(String message, String param) {
    return new OpenAiError(400, message, "invalid_request_error", param, null);
  }

  public static OpenAiError invalidApiKey() {
    return new OpenAiError(401, "Incorrect or missing API key. Pass a Sluice key as 'Authorization: Bearer sk-sluice...'.",
        "invalid_request_error", null, "invalid_api_key");
  }

  public static OpenAiError modelNotAllowed(String model) {
    return new OpenAiError(403, "This key's tenant may not use the model '" + model + "'.",
        "invalid_request_error", "model", "model_not_allowed");
  }

  public static OpenAiError modelNotFound(String model) {
    return new OpenAiError(404, "The model '" + model + "' does not exist.",
        "invalid_request_error", "model", "model_not_found");
  }

  public static OpenAiError notFound(String what) {
    return new OpenAiError(404, what, "invalid_request_error", null, "not_found");
  }

  public static OpenAiError tooLarge(long limit) {
    return new OpenAiError(413, "Request body is larger than the limit of " + limit + " bytes.",
        "invalid_request_error", null, "request_too_large");
  }

  public static OpenAiError upstreamUnavailable(String detail) {
    return new OpenAiError(502, "The upstream model server could not be reached: " + detail,
        "upstream_error", null, "upstream_unavailable");
  }

  public static OpenAiError upstreamBadResponse(String detail) {
    return new OpenAiError(502, "The upstream model server failed: " + detail,
        "upstream_error", null, "upstream_error");
  }

  public static OpenAiError upstreamTimeout(String detail) {
    return new OpenAiError(504, "The upstream model server timed out: " + detail,
        "upstream_error", null, "upstream_timeout");
  }

  public static OpenAiError internal() {
    return new OpenAiError(500, "The gateway failed to handle the request.", "server_error", null, null);
  }

  /** {@code value} as a JSON string literal, quotes included, UTF-8. */
  public static byte[] quote(String value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(value.length() + 8);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The JSON envelope. */
  public byte[] toJson() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128 + message.length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeObjectFieldStart("error");
      g.writeStringField("message", message);
      g.writeStringField("type", type);
      g.writeStringField("param", param);
      g.writeStringField("code", code);
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
