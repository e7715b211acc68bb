package io.sluice.node.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * The fields Sluice needs from an OpenAI request body, found in one streaming pass without
 * building a tree: the model (and where its value sits, so it can be replaced in place), the
 * stream flags and {@code max_tokens}. Every other field is left untouched and forwarded as the
 * client sent it. The pass also checks that the body is well-formed JSON.
 *
 * @param modelStart byte offset of the model value's opening quote
 * @param modelEnd byte offset just past its closing quote
 * @param maxTokens {@code max_completion_tokens} or {@code max_tokens}, or -1 when absent
 */
public record RequestScan(String model, int modelStart, int modelEnd, boolean stream,
    boolean includeUsage, long maxTokens) {

  private static final JsonFactory JSON = JsonFactory.builder().build();

  /** Which OpenAI operation the body belongs to; each requires its own fields. */
  public enum Operation {
    CHAT("messages", "chat/completions"),
    EMBEDDINGS("input", "embeddings");

    private final String requiredField;
    private final String path;

    Operation(String requiredField, String path) {
      this.requiredField = requiredField;
      this.path = path;
    }

    /** The path under the deployment's base URL. */
    public String path() {
      return path;
    }
  }

  /** Thrown for a body the gateway must refuse with 400; carries the envelope. */
  public static final class InvalidRequest extends Exception {
    private final transient OpenAiError error;

    InvalidRequest(String message, String param) {
      super(message, null, false, false);
      this.error = OpenAiError.invalidRequest(message, param);
    }

    public OpenAiError error() {
      return error;
    }
  }

  /** Scans {@code body}; throws {@link InvalidRequest} for anything OpenAI would refuse with 400. */
  public static RequestScan scan(byte[] body, Operation op) throws InvalidRequest {
    String model = null;
    int modelStart = -1;
    int modelEnd = -1;
    boolean stream = false;
    boolean includeUsage = false;
    long maxTokens = -1;
    boolean sawRequired = false;
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new InvalidRequest("The request body must be a JSON object.", null);
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken v = p.nextToken();
        switch (field) {
          case "model" -> {
            if (v != JsonToken.VALUE_STRING) {
              throw new InvalidRequest("'model' must be a string.", "model");
            }
            modelStart = (int) p.currentTokenLocation().getByteOffset();
            model = p.getText();
            modelEnd = (int) p.currentLocation().getByteOffset();
          }
          case "stream" -> stream = bool(v, "stream");
          case "stream_options" -> includeUsage = scanStreamOptions(p, v);
          case "max_tokens", "max_completion_tokens" -> {
            if (v == JsonToken.VALUE_NULL) {
              break;
            }
            if (v != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0) {
              throw new InvalidRequest("'" + field + "' must be a non-negative integer.", field);
            }
            if (maxTokens < 0 || field.equals("max_completion_tokens")) {
              maxTokens = p.getLongValue();
            }
          }
          default -> {
            if (field.equals(op.requiredField)) {
              checkRequired(op, v);
              sawRequired = true;
            }
            p.skipChildren();
          }
        }
      }
      if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new InvalidRequest("The request body is not valid JSON.", null);
      }
    } catch (IOException e) {
      throw new InvalidRequest("We could not parse the JSON body of your request: it is not valid JSON.", null);
    }
    if (model == null || model.isEmpty()) {
      throw new InvalidRequest("You must provide a model parameter.", "model");
    }
    if (!sawRequired) {
      throw new InvalidRequest("Missing required parameter: '" + op.requiredField + "'.", op.requiredField);
    }
    return new RequestScan(model, modelStart, modelEnd, stream, includeUsage, maxTokens);
  }

  private static void checkRequired(Operation op, JsonToken v) throws InvalidRequest {
    boolean ok = switch (op) {
      case CHAT -> v == JsonToken.START_ARRAY;
      case EMBEDDINGS -> v == JsonToken.START_ARRAY || v == JsonToken.VALUE_STRING;
    };
    if (!ok) {
      String expected = op == Operation.CHAT ? "an array" : "a string or an array";
      throw new InvalidRequest("'" + op.requiredField + "' must be " + expected + ".", op.requiredField);
    }
  }

  private static boolean bool(JsonToken v, String field) throws InvalidRequest {
    if (v == JsonToken.VALUE_TRUE) return true;
    if (v == JsonToken.VALUE_FALSE || v == JsonToken.VALUE_NULL) return false;
    throw new InvalidRequest("'" + field + "' must be a boolean.", field);
  }

  private static boolean scanStreamOptions(JsonParser p, JsonToken v) throws IOException, InvalidRequest {
    if (v == JsonToken.VALUE_NULL) {
      return false;
    }
    if (v != JsonToken.START_OBJECT) {
      throw new InvalidRequest("'stream_options' must be an object.", "stream_options");
    }
    boolean include = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if (name.equals("include_usage")) {
        include = bool(t, "stream_options.include_usage");
      } else {
        p.skipChildren();
      }
    }
    return include;
  }

  /**
   * The body with the model value replaced by {@code upstreamModel}, copying the bytes once; the
   * body itself when the names are equal.
   */
  public byte[] withModel(byte[] body, String upstreamModel) {
    if (upstreamModel.equals(model)) {
      return body;
    }
    byte[] quoted = OpenAiError.quote(upstreamModel);
    byte[] out = new byte[body.length - (modelEnd - modelStart) + quoted.length];
    System.arraycopy(body, 0, out, 0, modelStart);
    System.arraycopy(quoted, 0, out, modelStart, quoted.length);
    System.arraycopy(body, modelEnd, out, modelStart + quoted.length, body.length - modelEnd);
    return out;
  }
}
