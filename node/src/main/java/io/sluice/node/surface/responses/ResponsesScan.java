package io.sluice.node.surface.responses;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.sluice.node.api.OpenAiError;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.surface.Utf8;
import io.sluice.node.surface.openai.RequestScan;
import java.io.IOException;

/**
 * The top-level fields of a Responses API request that the gateway decides on, read in one
 * streaming pass: the model (with its byte offsets, so a passed-through body is edited in place),
 * {@code stream}, {@code max_output_tokens}, and the first stateful feature the request uses
 * ({@code previous_response_id}, {@code conversation}, {@code store: true}, {@code background:
 * true}, a stored {@code prompt}), which only OpenAI's own API can serve.
 *
 * @param maxOutputTokens -1 when absent
 * @param stateful the stateful field the request uses, or null
 */
record ResponsesScan(String model, int modelStart, int modelEnd, boolean stream, long maxOutputTokens,
    String stateful) {

  /** Duplicate keys are refused, as on the other surfaces: the gateway and an upstream could read different ones. */
  private static final JsonFactory JSON = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  private static final String DUPLICATE_PREFIX = "Duplicate field '";

  static ResponsesScan scan(byte[] body) throws InvalidChat {
    if (Utf8.firstInvalid(body) >= 0) {
      throw new InvalidChat("The request body is not valid UTF-8 JSON.", null);
    }
    String model = null;
    int modelStart = -1;
    int modelEnd = -1;
    boolean stream = false;
    long maxOutput = -1;
    String stateful = null;
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new InvalidChat("The request body must be a JSON object.", null);
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken v = p.nextToken();
        switch (field) {
          case "model" -> {
            if (v != JsonToken.VALUE_STRING) {
              throw new InvalidChat("'model' must be a string.", "model");
            }
            modelStart = (int) p.currentTokenLocation().getByteOffset();
            model = p.getText();
            modelEnd = (int) p.currentLocation().getByteOffset();
          }
          case "stream" -> stream = bool(v, field);
          case "max_output_tokens" -> {
            if (v != JsonToken.VALUE_NULL) {
              if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                  || p.getLongValue() < 1 || p.getLongValue() > RequestScan.MAX_TOKENS) {
                throw new InvalidChat("'max_output_tokens' must be an integer from 1 to " + RequestScan.MAX_TOKENS
                    + ".", field);
              }
              maxOutput = p.getLongValue();
            }
          }
          case "store", "background" -> {
            if (bool(v, field) && stateful == null) {
              stateful = field;
            }
          }
          case "previous_response_id", "conversation", "prompt" -> {
            if (v != JsonToken.VALUE_NULL && stateful == null) {
              stateful = field;
            }
            p.skipChildren();
          }
          default -> p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new InvalidChat("The request body is not valid JSON.", null);
      }
    } catch (JsonParseException e) {
      String message = e.getOriginalMessage();
      if (message != null && message.startsWith(DUPLICATE_PREFIX) && message.endsWith("'")) {
        String key = message.substring(DUPLICATE_PREFIX.length(), message.length() - 1);
        throw new InvalidChat("The request body has the key '" + key
            + "' more than once in one object; every key may appear only once.", key);
      }
      throw new InvalidChat("We could not parse the JSON body of your request: it is not valid JSON.", null);
    } catch (IOException e) {
      throw new InvalidChat("We could not parse the JSON body of your request: it is not valid JSON.", null);
    }
    if (model == null || model.isEmpty()) {
      throw new InvalidChat("You must provide a model parameter.", "model");
    }
    return new ResponsesScan(model, modelStart, modelEnd, stream, maxOutput, stateful);
  }

  private static boolean bool(JsonToken v, String field) throws InvalidChat {
    if (v == JsonToken.VALUE_TRUE) return true;
    if (v == JsonToken.VALUE_FALSE || v == JsonToken.VALUE_NULL) return false;
    throw new InvalidChat("'" + field + "' must be a boolean.", field);
  }

  /** The body with the model value replaced, copying once; the body itself when the names are equal. */
  byte[] withModel(byte[] body, String upstreamModel) {
    if (upstreamModel.equals(model)) {
      return body;
    }
    byte[] insert = OpenAiError.quote(upstreamModel);
    byte[] out = new byte[body.length - (modelEnd - modelStart) + insert.length];
    System.arraycopy(body, 0, out, 0, modelStart);
    System.arraycopy(insert, 0, out, modelStart, insert.length);
    System.arraycopy(body, modelEnd, out, modelStart + insert.length, body.length - modelEnd);
    return out;
  }
}
