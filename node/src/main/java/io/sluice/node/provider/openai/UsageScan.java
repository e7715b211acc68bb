package io.sluice.node.provider.openai;

import io.sluice.node.inference.chat.Usage;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Reads the {@code usage} object of an OpenAI response (chat completion, embedding, or one SSE
 * chunk's data) in one streaming pass, without building a tree.
 */
public final class UsageScan {
  private static final JsonFactory JSON = new JsonFactory();

  private UsageScan() {}

  /** The top-level usage of {@code json}, or null when there is none (or it is null). */
  public static Usage of(byte[] json, int offset, int length) {
    try (JsonParser p = JSON.createParser(json, offset, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("usage") && v == JsonToken.START_OBJECT) {
          return readUsage(p);
        }
        p.skipChildren();
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  public static Usage of(byte[] json) {
    return of(json, 0, json.length);
  }

  private static Usage readUsage(JsonParser p) throws IOException {
    long prompt = 0;
    long completion = 0;
    long total = -1;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (v == JsonToken.VALUE_NUMBER_INT) {
        switch (name) {
          case "prompt_tokens", "input_tokens" -> prompt = p.getLongValue();
          case "completion_tokens", "output_tokens" -> completion = p.getLongValue();
          case "total_tokens" -> total = p.getLongValue();
          default -> { }
        }
      } else {
        p.skipChildren();
      }
    }
    if (prompt == 0 && completion == 0 && total > 0) {
      prompt = total;
    }
    return Usage.of(Math.max(0, prompt), Math.max(0, completion));
  }
}
