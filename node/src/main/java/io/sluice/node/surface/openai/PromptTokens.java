package io.sluice.node.surface.openai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.sluice.node.inference.TokenCounter;
import java.io.IOException;

/**
 * The prompt's tokens as OpenAI accounts them, counted on {@link RequestScan}'s parser as it passes
 * the prompt field: message texts plus the per-message framing. It exists apart so that the
 * accounting rules change in one place, not with the request's validation.
 */
final class PromptTokens {
  /** OpenAI's accounting: each message costs 3 tokens of framing, a reply is primed with 3. */
  private static final int PER_MESSAGE = 3;
  private static final int REPLY_PRIMING = 3;

  /** Walks {@code messages} (the parser is on its START_ARRAY), counting text tokens. */
  static long messages(JsonParser p, TokenCounter tokens) throws IOException {
    if (tokens == TokenCounter.NO_COUNT) {
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
          total += content(p, v, tokens);
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
  private static long content(JsonParser p, JsonToken v, TokenCounter tokens) throws IOException {
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
  static long input(JsonParser p, JsonToken v, TokenCounter tokens) throws IOException {
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

  private PromptTokens() {}
}
