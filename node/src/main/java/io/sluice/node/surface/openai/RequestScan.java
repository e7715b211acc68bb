package io.sluice.node.surface.openai;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.sluice.node.api.OpenAiError;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.TokenCounter;
import io.sluice.node.surface.Utf8;
import java.io.IOException;

/**
 * The fields Sluice needs from an OpenAI request body, found in one streaming pass without
 * building a tree: the model (and where its value sits, so it can be replaced in place), the
 * stream flags and {@code max_tokens}. Every other field is left untouched and forwarded as the
 * client sent it. The pass also checks that the body is well-formed UTF-8 JSON with no key twice in
 * one object.
 *
 * @param modelStart byte offset of the model value's opening quote
 * @param modelEnd byte offset just past its closing quote
 * @param maxTokens {@code max_completion_tokens} or {@code max_tokens}, or -1 when absent
 * @param promptTokens the prompt's tokens as the given counter counts them (message texts plus
 *     OpenAI's per-message overhead), or 0 without a counter
 * @param objectStart byte offset of the body's opening brace
 * @param streamOptionsStart byte offset of the {@code stream_options} value, or -1 when absent
 * @param streamOptionsEnd byte offset just past it
 */
public record RequestScan(String model, int modelStart, int modelEnd, boolean stream,
    boolean includeUsage, long maxTokens, long promptTokens, int objectStart, int streamOptionsStart,
    int streamOptionsEnd) {

  public static final TokenCounter NO_COUNT = TokenCounter.NO_COUNT;
  /** Far above any model's output limit; bounds the reservation so its cost cannot overflow. */
  public static final long MAX_TOKENS = 100_000_000L;
  /** OpenAI's accounting: each message costs 3 tokens of framing, a reply is primed with 3. */
  private static final int PER_MESSAGE = 3;
  private static final int REPLY_PRIMING = 3;

  /**
   * Duplicate keys are refused anywhere in the body: with two {@code model} or {@code max_tokens}
   * fields the gateway would check one value while an upstream may read the other. Jackson keeps a
   * per-object name set for this (two fields inline, a hash set from the third name on).
   */
  private static final JsonFactory JSON = JsonFactory.builder()
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();
  /** Jackson's message prefix for {@code STRICT_DUPLICATE_DETECTION}; the only parse error it raises. */
  private static final String DUPLICATE_PREFIX = "Duplicate field '";

  /** Thrown for a body the gateway must refuse with 400; carries the envelope. */
  public static final class InvalidRequest extends Exception {
    private final String param;

    InvalidRequest(String message, String param) {
      super(message, null, false, false);
      this.param = param;
    }

    /** The offending field, or null. */
    public String param() {
      return param;
    }
  }

  /** The field each operation requires: the one whose text is the prompt. */
  private static String requiredField(Operation op) {
    return switch (op) {
      case CHAT -> "messages";
      case EMBEDDINGS -> "input";
      case COMPLETIONS -> "prompt";
    };
  }

  /** Scans {@code body}; throws {@link InvalidRequest} for anything OpenAI would refuse with 400. */
  public static RequestScan scan(byte[] body, Operation op) throws InvalidRequest {
    return scan(body, op, NO_COUNT);
  }

  /** Scans {@code body}, counting prompt tokens with {@code tokens}. */
  public static RequestScan scan(byte[] body, Operation op, TokenCounter tokens) throws InvalidRequest {
    return scan(body, op, tokens, true);
  }

  private static RequestScan scan(byte[] body, Operation op, TokenCounter tokens, boolean checkUtf8)
      throws InvalidRequest {
    // Once over the whole body: Jackson would auto-detect UTF-16/32 (whose offsets the edits below
    // cannot use) and passes ill-formed UTF-8 in the fields it skips, which would be forwarded.
    if (checkUtf8 && Utf8.firstInvalid(body) >= 0) {
      throw new InvalidRequest("The request body is not valid UTF-8 JSON.", null);
    }
    String model = null;
    int objectStart;
    int streamOptionsStart = -1;
    int streamOptionsEnd = -1;
    long promptTokens = 0;
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
      objectStart = (int) p.currentTokenLocation().getByteOffset();
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
          case "stream_options" -> {
            streamOptionsStart = (int) p.currentTokenLocation().getByteOffset();
            includeUsage = scanStreamOptions(p, v);
            streamOptionsEnd = (int) p.currentLocation().getByteOffset();
          }
          case "max_tokens", "max_completion_tokens" -> {
            if (v == JsonToken.VALUE_NULL) {
              break;
            }
            if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                || p.getLongValue() < 0 || p.getLongValue() > MAX_TOKENS) {
              throw new InvalidRequest("'" + field + "' must be an integer from 0 to " + MAX_TOKENS + ".", field);
            }
            if (maxTokens < 0 || field.equals("max_completion_tokens")) {
              maxTokens = p.getLongValue();
            }
          }
          default -> {
            if (field.equals(requiredField(op))) {
              checkRequired(op, v);
              sawRequired = true;
              promptTokens = op == Operation.CHAT ? countMessages(p, tokens) : countInput(p, v, tokens);
            } else {
              p.skipChildren();
            }
          }
        }
      }
      if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new InvalidRequest("The request body is not valid JSON.", null);
      }
    } catch (JsonParseException e) {
      String message = e.getOriginalMessage();
      if (message != null && message.startsWith(DUPLICATE_PREFIX) && message.endsWith("'")) {
        String key = message.substring(DUPLICATE_PREFIX.length(), message.length() - 1);
        throw new InvalidRequest("The request body has the key '" + key
            + "' more than once in one object; every key may appear only once.", key);
      }
      throw new InvalidRequest("We could not parse the JSON body of your request: it is not valid JSON.", null);
    } catch (IOException e) {
      throw new InvalidRequest("We could not parse the JSON body of your request: it is not valid JSON.", null);
    }
    if (model == null || model.isEmpty()) {
      throw new InvalidRequest("You must provide a model parameter.", "model");
    }
    if (!sawRequired) {
      throw new InvalidRequest("Missing required parameter: '" + requiredField(op) + "'.", requiredField(op));
    }
    return new RequestScan(model, modelStart, modelEnd, stream, includeUsage, maxTokens, promptTokens,
        objectStart, streamOptionsStart, streamOptionsEnd);
  }

  /** Walks {@code messages} (the parser is on its START_ARRAY), counting text tokens. */
  private static long countMessages(JsonParser p, TokenCounter tokens) throws IOException {
    if (tokens == NO_COUNT) {
      p.skipChildren();
      return 0;
    }
    long total = REPLY_PRIMING;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.START_OBJECT) {
        p.skipChildren();
        continue;
      }
      total += PER_MESSAGE;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("content")) {
          total += countContent(p, v, tokens);
        } else if (name.equals("name") && v == JsonToken.VALUE_STRING) {
          total += 1 + tokens.count(p.getText());
        } else {
          p.skipChildren();
        }
      }
    }
    return total;
  }

  /** A message's content: a string, or an array of parts whose "text" fields count. */
  private static long countContent(JsonParser p, JsonToken v, TokenCounter tokens) throws IOException {
    if (v == JsonToken.VALUE_STRING) {
      return tokens.count(p.getText());
    }
    if (v != JsonToken.START_ARRAY) {
      p.skipChildren();
      return 0;
    }
    long total = 0;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.START_OBJECT) {
        p.skipChildren();
        continue;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken pv = p.nextToken();
        if (name.equals("text") && pv == JsonToken.VALUE_STRING) {
          total += tokens.count(p.getText());
        } else {
          p.skipChildren();
        }
      }
    }
    return total;
  }

  /** Embeddings' {@code input}: a string, strings, or arrays of token ids. */
  private static long countInput(JsonParser p, JsonToken v, TokenCounter tokens) throws IOException {
    if (v == JsonToken.VALUE_STRING) {
      return tokens.count(p.getText());
    }
    long total = 0;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t == JsonToken.VALUE_STRING) {
        total += tokens.count(p.getText());
      } else if (t == JsonToken.VALUE_NUMBER_INT) {
        total += 1;
      } else if (t == JsonToken.START_ARRAY) {
        while (p.nextToken() != JsonToken.END_ARRAY) {
          total += 1;
        }
      } else {
        p.skipChildren();
      }
    }
    return total;
  }

  /**
   * The body to send upstream: the model value replaced by {@code upstreamModel} when it differs,
   * and, when {@code forceUsage}, {@code stream_options} set to {@code {"include_usage":true}} so
   * the upstream reports a stream's usage (Sluice needs it to charge the stream, and strips the
   * usage chunk again when the client did not ask for it). Every other byte is kept; the body
   * itself is returned when nothing changes.
   */
  public byte[] forUpstream(byte[] body, String upstreamModel, boolean forceUsage) {
    byte[] out = body;
    boolean usageEdit = forceUsage && !includeUsage;
    boolean modelEdit = !upstreamModel.equals(model);
    byte[] options = "{\"include_usage\":true}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] field = "\"stream_options\":{\"include_usage\":true},".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int usageFrom = streamOptionsStart >= 0 ? streamOptionsStart : objectStart + 1;
    int usageTo = streamOptionsStart >= 0 ? streamOptionsEnd : objectStart + 1;
    byte[] usageBytes = streamOptionsStart >= 0 ? options : field;
    // Apply the later edit first, so the earlier one's offsets still hold.
    if (usageEdit && usageFrom >= modelEnd) {
      out = splice(out, usageFrom, usageTo, usageBytes);
      usageEdit = false;
    }
    if (modelEdit) {
      out = splice(out, modelStart, modelEnd, OpenAiError.quote(upstreamModel));
    }
    if (usageEdit) {
      out = splice(out, usageFrom, usageTo, usageBytes);
    }
    return out;
  }

  private static byte[] splice(byte[] body, int from, int to, byte[] insert) {
    byte[] out = new byte[body.length - (to - from) + insert.length];
    System.arraycopy(body, 0, out, 0, from);
    System.arraycopy(insert, 0, out, from, insert.length);
    System.arraycopy(body, to, out, from + insert.length, body.length - to);
    return out;
  }

  private static void checkRequired(Operation op, JsonToken v) throws InvalidRequest {
    boolean ok = switch (op) {
      case CHAT -> v == JsonToken.START_ARRAY;
      case EMBEDDINGS, COMPLETIONS -> v == JsonToken.START_ARRAY || v == JsonToken.VALUE_STRING;
    };
    if (!ok) {
      String expected = op == Operation.CHAT ? "an array" : "a string or an array";
      throw new InvalidRequest("'" + requiredField(op) + "' must be " + expected + ".", requiredField(op));
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
    return splice(body, modelStart, modelEnd, OpenAiError.quote(upstreamModel));
  }

  /**
   * The prompt tokens of a body already scanned (so known to be well-formed), counted in a pass of
   * its own: the gateway counts only once the cheap checks (model, tenant, pinning) passed.
   */
  public static long countPrompt(byte[] body, Operation op, TokenCounter tokens) {
    try {
      return scan(body, op, tokens, false).promptTokens();
    } catch (InvalidRequest e) {
      return 0;
    }
  }
}
