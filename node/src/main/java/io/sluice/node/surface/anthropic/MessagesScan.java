package io.sluice.node.surface.anthropic;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.inference.TokenCounter;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.surface.Utf8;
import java.io.IOException;

/**
 * The fields Sluice needs from an Anthropic Messages request body, found in one streaming pass
 * without building a tree: the model (and where its value sits, so it can be replaced in place
 * when the body passes through to an Anthropic deployment), the stream flag, {@code max_tokens}
 * and an estimate of the prompt's tokens for the reservation. Every other field is left as the
 * client sent it. The pass also checks that the body is one well-formed JSON object without a
 * repeated key anywhere (a repeated key would let the gateway and the upstream read different
 * values).
 *
 * @param modelStart byte offset of the model value's opening quote
 * @param modelEnd byte offset just past its closing quote
 * @param maxTokens the client's {@code max_tokens}, or -1 when absent (count_tokens only)
 * @param promptTokens system text, message text and tool-result text as the counter counts
 *     them, plus {@value #PER_MESSAGE} tokens of framing per message; 0 without a counter
 */
public record MessagesScan(String model, int modelStart, int modelEnd, boolean stream, long maxTokens,
    long promptTokens) {

  /** Far above any model's output limit; bounds the reservation so its cost cannot overflow. */
  public static final long MAX_TOKENS = 100_000_000L;
  /** Framing per message (role markers and separators); an estimate, as Anthropic does not publish it. */
  static final int PER_MESSAGE = 3;

  private static final JsonFactory JSON =
      JsonFactory.builder().enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /** Scans a {@code POST /v1/messages} body, which must carry {@code max_tokens}. */
  public static MessagesScan scan(byte[] body, TokenCounter tokens) throws InvalidChat {
    return scan(body, tokens, true);
  }

  /** Scans a {@code POST /v1/messages/count_tokens} body, which has no {@code max_tokens}. */
  public static MessagesScan scanCountTokens(byte[] body, TokenCounter tokens) throws InvalidChat {
    return scan(body, tokens, false);
  }

  private static MessagesScan scan(byte[] body, TokenCounter tokens, boolean requireMaxTokens)
      throws InvalidChat {
    // Once over the whole body: Jackson would auto-detect UTF-16/32 (whose offsets the model edit
    // cannot use) and passes ill-formed UTF-8 in the fields it skips, which would be forwarded.
    if (Utf8.firstInvalid(body) >= 0) {
      throw new InvalidChat("The request body is not valid UTF-8 JSON.", null);
    }
    String model = null;
    int modelStart = -1;
    int modelEnd = -1;
    boolean stream = false;
    long maxTokens = -1;
    long promptTokens = 0;
    boolean sawMessages = false;
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
              throw new InvalidChat("model: Input should be a valid string", "model");
            }
            modelStart = (int) p.currentTokenLocation().getByteOffset();
            model = p.getText();
            modelEnd = (int) p.currentLocation().getByteOffset();
          }
          case "stream" -> {
            if (v == JsonToken.VALUE_TRUE || v == JsonToken.VALUE_FALSE) {
              stream = v == JsonToken.VALUE_TRUE;
            } else if (v != JsonToken.VALUE_NULL) {
              throw new InvalidChat("stream: Input should be a valid boolean", "stream");
            }
          }
          case "max_tokens" -> maxTokens = maxTokens(p, v);
          case "system" -> promptTokens += text(p, v, tokens, "system");
          case "messages" -> {
            if (v != JsonToken.START_ARRAY) {
              throw new InvalidChat("messages: Input should be a valid list", "messages");
            }
            sawMessages = true;
            promptTokens += messages(p, tokens);
          }
          default -> p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new InvalidChat("The request body is not valid JSON.", null);
      }
    } catch (IOException e) {
      // Jackson names a repeated key in its message; nothing else of the parser's wording is worth showing.
      String m = e.getMessage();
      if (m != null && m.startsWith("Duplicate field")) {
        int end = m.indexOf('\n');
        throw new InvalidChat("The request body repeats a key: " + (end < 0 ? m : m.substring(0, end)) + ".", null);
      }
      throw new InvalidChat("The request body is not valid JSON.", null);
    }
    if (model == null) {
      throw new InvalidChat("model: Field required", "model");
    }
    if (model.isEmpty()) {
      throw new InvalidChat("model: String should have at least 1 character", "model");
    }
    if (!sawMessages) {
      throw new InvalidChat("messages: Field required", "messages");
    }
    if (requireMaxTokens && maxTokens < 0) {
      throw new InvalidChat("max_tokens: Field required", "max_tokens");
    }
    return new MessagesScan(model, modelStart, modelEnd, stream, maxTokens,
        tokens == RequestScan.NO_COUNT ? 0 : promptTokens);
  }

  private static long maxTokens(JsonParser p, JsonToken v) throws IOException, InvalidChat {
    if (v == JsonToken.VALUE_NULL) {
      return -1;
    }
    if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      p.skipChildren();
      throw new InvalidChat("max_tokens: Input should be a valid integer", "max_tokens");
    }
    long n = p.getLongValue();
    if (n < 1 || n > MAX_TOKENS) {
      throw new InvalidChat("max_tokens: Input should be an integer from 1 to " + MAX_TOKENS, "max_tokens");
    }
    return n;
  }

  /** Walks {@code messages} (the parser is on its START_ARRAY). */
  private static long messages(JsonParser p, TokenCounter tokens) throws IOException, InvalidChat {
    long total = 0;
    JsonToken t;
    int i = 0;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.START_OBJECT) {
        throw new InvalidChat("messages." + i + ": Input should be a valid dictionary", "messages." + i);
      }
      total += PER_MESSAGE;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("content")) {
          total += text(p, v, tokens, "messages." + i + ".content");
        } else {
          p.skipChildren();
        }
      }
      i++;
    }
    return total;
  }

  /**
   * A string, or blocks: a block's {@code text} counts, and so does a {@code tool_result}'s
   * {@code content} (a string or text blocks). Image data and tool inputs do not.
   */
  private static long text(JsonParser p, JsonToken v, TokenCounter tokens, String path)
      throws IOException, InvalidChat {
    if (v == JsonToken.VALUE_STRING) {
      return tokens.count(p.getText());
    }
    if (v == JsonToken.VALUE_NULL) {
      return 0;
    }
    if (v != JsonToken.START_ARRAY) {
      throw new InvalidChat(path + ": Input should be a valid string or a list of content blocks", path);
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
        JsonToken bv = p.nextToken();
        if (name.equals("text") && bv == JsonToken.VALUE_STRING) {
          total += tokens.count(p.getText());
        } else if (name.equals("content") && (bv == JsonToken.VALUE_STRING || bv == JsonToken.START_ARRAY)) {
          total += text(p, bv, tokens, path); // a tool_result's content
        } else {
          p.skipChildren();
        }
      }
    }
    return total;
  }

  /**
   * The body with the model value replaced by {@code upstreamModel}, copying the bytes once; the
   * body itself when the names are equal.
   */
  public byte[] withModel(byte[] body, String upstreamModel) {
    if (upstreamModel.equals(model)) {
      return body;
    }
    byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(upstreamModel);
    byte[] out = new byte[body.length - (modelEnd - modelStart) + escaped.length + 2];
    System.arraycopy(body, 0, out, 0, modelStart);
    out[modelStart] = '"';
    System.arraycopy(escaped, 0, out, modelStart + 1, escaped.length);
    out[modelStart + 1 + escaped.length] = '"';
    System.arraycopy(body, modelEnd, out, modelStart + escaped.length + 2, body.length - modelEnd);
    return out;
  }
}
